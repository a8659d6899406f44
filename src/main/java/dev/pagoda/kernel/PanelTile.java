package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles over {@link RowPanels} (float32, BF16 or F16; {@link Int8Tile} for int8 panels): 2 panels (2L rows) x up to 12 tokens,
 * up to 8 tokens, up to 4 tokens, and 1 token. Per column k, the two weight vectors of the panels are multiplied by each token's broadcast x[t][k] and
 * added to that token's accumulators with one fused multiply-add, so every output element is
 * {@code acc = fma(w[r][k], x[t][k], acc)} for k = 0, 1, ..., cols - 1 in order, from 0: one fixed order
 * whatever the tile, the batch or the thread split (batch invariance rests on it). Accumulators are stored
 * as vectors of L consecutive rows, masked where the rows end.
 *
 * <p>Each tile is one self-contained method: no vector crosses a call (a call C2 does not inline boxes it).
 */
final class PanelTile {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Tokens per tile: 2 x 8 accumulators leave registers for the weights, enough independent chains for two FMA units. */
    static final int TOKENS = 8;
    /** Tokens per wide tile ({@link #tile12}). */
    static final int WIDE = 12;
    /** L shorts, widened to L ints (BF16 and F16 panels; used only where {@link RowDecoder#VECTOR}). */
    private static final VectorSpecies<Short> S = RowDecoder.VECTOR ? VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16)) : null;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /**
     * The panels' element form: float32; BF16 widened by a shift; F16 of finite values ({@link RowPanels#pack} packs no
     * other) widened by a shift, a mask and a multiply: the half's sign-extended bits moved up 13 put its sign, exponent
     * and mantissa in float position with three more copies of the sign above the exponent, which the mask clears; that
     * float, a power of two (2^-112) times the half, rescaled (exact, subnormal halves included; an Inf or NaN half
     * would come out finite). The Vector API has no half-to-float conversion; this takes 4 operations where one exact
     * for all halves took 11.
     */
    static final int FLOAT = 0, BF16 = 1, F16 = 2;
    private static final int F16_BITS = 0x8FFFFFFF;
    private static final float F16_SCALE = 0x1p112f;

    private PanelTile() {
    }

    /**
     * Panels at byte offsets p0, p1 of {@code s} in {@code form} (float32, L floats per column; BF16 or F16, L shorts
     * per column, widened in registers, exactly, so the products and their order are those of float32 panels of the
     * same values) against tokens x[xb + j*cols..],
     * j <= last < 8; rows r0.. and r1.. of token j go to out[ob + j*rows + r..]. Tokens past {@code last} repeat
     * the last one (and r1 may equal r0): computed again, stored again with the same values.
     */
    static void tile8(MemorySegment s, int form, long p0, long p1, int cols, float[] x, int xb, int last, float[] out, int ob, int rows, int r0, int r1) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector b4 = FloatVector.zero(F), b5 = FloatVector.zero(F), b6 = FloatVector.zero(F), b7 = FloatVector.zero(F);
        int j1 = Math.min(1, last), j2 = Math.min(2, last), j3 = Math.min(3, last);
        int j4 = Math.min(4, last), j5 = Math.min(5, last), j6 = Math.min(6, last), j7 = Math.min(7, last);
        int x1 = xb + j1 * cols, x2 = xb + j2 * cols, x3 = xb + j3 * cols, x4 = xb + j4 * cols;
        int x5 = xb + j5 * cols, x6 = xb + j6 * cols, x7 = xb + j7 * cols;
        for (int k = 0; k < cols; k++) {
            FloatVector v, u;
            if (form == BF16) {
                long o = 2L * L * k;
                v = ((IntVector) ShortVector.fromMemorySegment(S, s, p0 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                u = ((IntVector) ShortVector.fromMemorySegment(S, s, p1 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            } else if (form == F16) {
                long o = 2L * L * k;
                v = ((IntVector) ShortVector.fromMemorySegment(S, s, p0 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_SCALE);
                u = ((IntVector) ShortVector.fromMemorySegment(S, s, p1 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_SCALE);
            } else {
                long o = 4L * L * k;
                v = FloatVector.fromMemorySegment(F, s, p0 + o, LE);
                u = FloatVector.fromMemorySegment(F, s, p1 + o, LE);
            }
            FloatVector t = FloatVector.broadcast(F, x[xb + k]);
            a0 = v.fma(t, a0);
            b0 = u.fma(t, b0);
            t = FloatVector.broadcast(F, x[x1 + k]);
            a1 = v.fma(t, a1);
            b1 = u.fma(t, b1);
            t = FloatVector.broadcast(F, x[x2 + k]);
            a2 = v.fma(t, a2);
            b2 = u.fma(t, b2);
            t = FloatVector.broadcast(F, x[x3 + k]);
            a3 = v.fma(t, a3);
            b3 = u.fma(t, b3);
            t = FloatVector.broadcast(F, x[x4 + k]);
            a4 = v.fma(t, a4);
            b4 = u.fma(t, b4);
            t = FloatVector.broadcast(F, x[x5 + k]);
            a5 = v.fma(t, a5);
            b5 = u.fma(t, b5);
            t = FloatVector.broadcast(F, x[x6 + k]);
            a6 = v.fma(t, a6);
            b6 = u.fma(t, b6);
            t = FloatVector.broadcast(F, x[x7 + k]);
            a7 = v.fma(t, a7);
            b7 = u.fma(t, b7);
        }
        VectorMask<Float> m = F.indexInRange(r0, rows), n = F.indexInRange(r1, rows);
        // highest token first: a repeated token's slot is an earlier one, written last with the same values
        a7.intoArray(out, ob + j7 * rows + r0, m);
        b7.intoArray(out, ob + j7 * rows + r1, n);
        a6.intoArray(out, ob + j6 * rows + r0, m);
        b6.intoArray(out, ob + j6 * rows + r1, n);
        a5.intoArray(out, ob + j5 * rows + r0, m);
        b5.intoArray(out, ob + j5 * rows + r1, n);
        a4.intoArray(out, ob + j4 * rows + r0, m);
        b4.intoArray(out, ob + j4 * rows + r1, n);
        a3.intoArray(out, ob + j3 * rows + r0, m);
        b3.intoArray(out, ob + j3 * rows + r1, n);
        a2.intoArray(out, ob + j2 * rows + r0, m);
        b2.intoArray(out, ob + j2 * rows + r1, n);
        a1.intoArray(out, ob + j1 * rows + r0, m);
        b1.intoArray(out, ob + j1 * rows + r1, n);
        a0.intoArray(out, ob + r0, m);
        b0.intoArray(out, ob + r1, n);
    }

    /**
     * {@link #tile8} for up to 12 tokens (j <= last < 12), in {@code form} FLOAT or BF16: 24 accumulators, one broadcast per 2 fused multiply-adds as in {@link #tile8}
     * (broadcasts, not the multiply-adds, bound a tile of one panel), and 1.5 times its multiply-adds per weight byte,
     * so a pass that streams the weights from memory is held back less by them.
     */
    static void tile12(MemorySegment s, int form, long p0, long p1, int cols, float[] x, int xb, int last, float[] out, int ob, int rows,
                       int r0, int r1) {
        int j1 = Math.min(1, last), j2 = Math.min(2, last), j3 = Math.min(3, last), j4 = Math.min(4, last), j5 = Math.min(5, last);
        int j6 = Math.min(6, last), j7 = Math.min(7, last), j8 = Math.min(8, last), j9 = Math.min(9, last), j10 = Math.min(10, last);
        int j11 = Math.min(11, last);
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F);
        FloatVector a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        FloatVector a8 = FloatVector.zero(F), a9 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F);
        FloatVector b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector b4 = FloatVector.zero(F), b5 = FloatVector.zero(F);
        FloatVector b6 = FloatVector.zero(F), b7 = FloatVector.zero(F);
        FloatVector b8 = FloatVector.zero(F), b9 = FloatVector.zero(F);
        FloatVector b10 = FloatVector.zero(F), b11 = FloatVector.zero(F);
        int x1 = xb + j1 * cols, x2 = xb + j2 * cols, x3 = xb + j3 * cols, x4 = xb + j4 * cols, x5 = xb + j5 * cols;
        int x6 = xb + j6 * cols, x7 = xb + j7 * cols, x8 = xb + j8 * cols, x9 = xb + j9 * cols, x10 = xb + j10 * cols;
        int x11 = xb + j11 * cols;
        for (int k = 0; k < cols; k++) {
            FloatVector v, u;
            if (form == BF16) {
                long o = 2L * L * k;
                v = ((IntVector) ShortVector.fromMemorySegment(S, s, p0 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                u = ((IntVector) ShortVector.fromMemorySegment(S, s, p1 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            } else if (form == F16) {
                long o = 2L * L * k;
                v = ((IntVector) ShortVector.fromMemorySegment(S, s, p0 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_SCALE);
                u = ((IntVector) ShortVector.fromMemorySegment(S, s, p1 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_SCALE);
            } else {
                long o = 4L * L * k;
                v = FloatVector.fromMemorySegment(F, s, p0 + o, LE);
                u = FloatVector.fromMemorySegment(F, s, p1 + o, LE);
            }
            FloatVector t = FloatVector.broadcast(F, x[xb + k]);
            a0 = v.fma(t, a0);
            b0 = u.fma(t, b0);
            t = FloatVector.broadcast(F, x[x1 + k]);
            a1 = v.fma(t, a1);
            b1 = u.fma(t, b1);
            t = FloatVector.broadcast(F, x[x2 + k]);
            a2 = v.fma(t, a2);
            b2 = u.fma(t, b2);
            t = FloatVector.broadcast(F, x[x3 + k]);
            a3 = v.fma(t, a3);
            b3 = u.fma(t, b3);
            t = FloatVector.broadcast(F, x[x4 + k]);
            a4 = v.fma(t, a4);
            b4 = u.fma(t, b4);
            t = FloatVector.broadcast(F, x[x5 + k]);
            a5 = v.fma(t, a5);
            b5 = u.fma(t, b5);
            t = FloatVector.broadcast(F, x[x6 + k]);
            a6 = v.fma(t, a6);
            b6 = u.fma(t, b6);
            t = FloatVector.broadcast(F, x[x7 + k]);
            a7 = v.fma(t, a7);
            b7 = u.fma(t, b7);
            t = FloatVector.broadcast(F, x[x8 + k]);
            a8 = v.fma(t, a8);
            b8 = u.fma(t, b8);
            t = FloatVector.broadcast(F, x[x9 + k]);
            a9 = v.fma(t, a9);
            b9 = u.fma(t, b9);
            t = FloatVector.broadcast(F, x[x10 + k]);
            a10 = v.fma(t, a10);
            b10 = u.fma(t, b10);
            t = FloatVector.broadcast(F, x[x11 + k]);
            a11 = v.fma(t, a11);
            b11 = u.fma(t, b11);
        }
        VectorMask<Float> m = F.indexInRange(r0, rows), n = F.indexInRange(r1, rows);
        // highest token first: a repeated token's slot is an earlier one, written last with the same values
        a11.intoArray(out, ob + j11 * rows + r0, m);
        b11.intoArray(out, ob + j11 * rows + r1, n);
        a10.intoArray(out, ob + j10 * rows + r0, m);
        b10.intoArray(out, ob + j10 * rows + r1, n);
        a9.intoArray(out, ob + j9 * rows + r0, m);
        b9.intoArray(out, ob + j9 * rows + r1, n);
        a8.intoArray(out, ob + j8 * rows + r0, m);
        b8.intoArray(out, ob + j8 * rows + r1, n);
        a7.intoArray(out, ob + j7 * rows + r0, m);
        b7.intoArray(out, ob + j7 * rows + r1, n);
        a6.intoArray(out, ob + j6 * rows + r0, m);
        b6.intoArray(out, ob + j6 * rows + r1, n);
        a5.intoArray(out, ob + j5 * rows + r0, m);
        b5.intoArray(out, ob + j5 * rows + r1, n);
        a4.intoArray(out, ob + j4 * rows + r0, m);
        b4.intoArray(out, ob + j4 * rows + r1, n);
        a3.intoArray(out, ob + j3 * rows + r0, m);
        b3.intoArray(out, ob + j3 * rows + r1, n);
        a2.intoArray(out, ob + j2 * rows + r0, m);
        b2.intoArray(out, ob + j2 * rows + r1, n);
        a1.intoArray(out, ob + j1 * rows + r0, m);
        b1.intoArray(out, ob + j1 * rows + r1, n);
        a0.intoArray(out, ob + r0, m);
        b0.intoArray(out, ob + r1, n);
    }

    /** {@link #tile8} for at most 4 tokens (j <= last < 4): half the multiply-adds when few tokens remain. */
    static void tile4(MemorySegment s, int form, long p0, long p1, int cols, float[] x, int xb, int last, float[] out, int ob, int rows, int r0, int r1) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int j1 = Math.min(1, last), j2 = Math.min(2, last), j3 = Math.min(3, last);
        int x1 = xb + j1 * cols, x2 = xb + j2 * cols, x3 = xb + j3 * cols;
        for (int k = 0; k < cols; k++) {
            FloatVector v, u;
            if (form == BF16) {
                long o = 2L * L * k;
                v = ((IntVector) ShortVector.fromMemorySegment(S, s, p0 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                u = ((IntVector) ShortVector.fromMemorySegment(S, s, p1 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            } else if (form == F16) {
                long o = 2L * L * k;
                v = ((IntVector) ShortVector.fromMemorySegment(S, s, p0 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_SCALE);
                u = ((IntVector) ShortVector.fromMemorySegment(S, s, p1 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                        .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_SCALE);
            } else {
                long o = 4L * L * k;
                v = FloatVector.fromMemorySegment(F, s, p0 + o, LE);
                u = FloatVector.fromMemorySegment(F, s, p1 + o, LE);
            }
            FloatVector t = FloatVector.broadcast(F, x[xb + k]);
            a0 = v.fma(t, a0);
            b0 = u.fma(t, b0);
            t = FloatVector.broadcast(F, x[x1 + k]);
            a1 = v.fma(t, a1);
            b1 = u.fma(t, b1);
            t = FloatVector.broadcast(F, x[x2 + k]);
            a2 = v.fma(t, a2);
            b2 = u.fma(t, b2);
            t = FloatVector.broadcast(F, x[x3 + k]);
            a3 = v.fma(t, a3);
            b3 = u.fma(t, b3);
        }
        VectorMask<Float> m = F.indexInRange(r0, rows), n = F.indexInRange(r1, rows);
        a3.intoArray(out, ob + j3 * rows + r0, m);
        b3.intoArray(out, ob + j3 * rows + r1, n);
        a2.intoArray(out, ob + j2 * rows + r0, m);
        b2.intoArray(out, ob + j2 * rows + r1, n);
        a1.intoArray(out, ob + j1 * rows + r0, m);
        b1.intoArray(out, ob + j1 * rows + r1, n);
        a0.intoArray(out, ob + r0, m);
        b0.intoArray(out, ob + r1, n);
    }

    /**
     * {@link #tile8} for one token x[xb..] (out[ob + r..]) over 4 panels (p2, p3 may repeat p0, p1: computed again,
     * stored again): the same operations per element, in the same order; 4 independent chains, for a single stream is
     * bound by the fused multiply-add's latency with 2.
     */
    static void tile1(MemorySegment s, int form, long p0, long p1, long p2, long p3, int cols, float[] x, int xb, float[] out, int ob, int rows,
                      int r0, int r1, int r2, int r3) {
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        if (form == FLOAT) {
            // a loop of its own: C2 unswitches one invariant test of a loop (the 2-byte forms' below), not two
            for (int k = 0; k < cols; k++) {
                long o = 4L * L * k;
                FloatVector t = FloatVector.broadcast(F, x[xb + k]);
                a = FloatVector.fromMemorySegment(F, s, p0 + o, LE).fma(t, a);
                b = FloatVector.fromMemorySegment(F, s, p1 + o, LE).fma(t, b);
                c = FloatVector.fromMemorySegment(F, s, p2 + o, LE).fma(t, c);
                d = FloatVector.fromMemorySegment(F, s, p3 + o, LE).fma(t, d);
            }
        } else {
            for (int k = 0; k < cols; k++) {
                FloatVector v0, v1, v2, v3;
                if (form == BF16) {
                    long o = 2L * L * k;
                    v0 = ((IntVector) ShortVector.fromMemorySegment(S, s, p0 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    v1 = ((IntVector) ShortVector.fromMemorySegment(S, s, p1 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    v2 = ((IntVector) ShortVector.fromMemorySegment(S, s, p2 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    v3 = ((IntVector) ShortVector.fromMemorySegment(S, s, p3 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                } else {
                    long o = 2L * L * k;
                    v0 = ((IntVector) ShortVector.fromMemorySegment(S, s, p0 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_SCALE);
                    v1 = ((IntVector) ShortVector.fromMemorySegment(S, s, p1 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_SCALE);
                    v2 = ((IntVector) ShortVector.fromMemorySegment(S, s, p2 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_SCALE);
                    v3 = ((IntVector) ShortVector.fromMemorySegment(S, s, p3 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 13).and(F16_BITS).reinterpretAsFloats().mul(F16_SCALE);
                }
                FloatVector t = FloatVector.broadcast(F, x[xb + k]);
                a = v0.fma(t, a);
                b = v1.fma(t, b);
                c = v2.fma(t, c);
                d = v3.fma(t, d);
            }
        }
        // last panel first: a repeated panel's slot is an earlier one, written last with the same values
        d.intoArray(out, ob + r3, F.indexInRange(r3, rows));
        c.intoArray(out, ob + r2, F.indexInRange(r2, rows));
        b.intoArray(out, ob + r1, F.indexInRange(r1, rows));
        a.intoArray(out, ob + r0, F.indexInRange(r0, rows));
    }
}
