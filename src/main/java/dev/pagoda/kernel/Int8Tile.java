package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles over {@link Int8Panels}: 4 panels x 1 token (a single stream), 2 panels x up to 8 and up to 4 tokens.
 * Each group of 32 columns loads its scale vectors once, then per column widens the L int8 quants of each panel to
 * float and multiplies them by the scales (exact: the dequantized weights) and adds {@code fma(w[r][k], x[t][k], acc)}
 * for k ascending from 0: the operations and order of {@link PanelTile}'s tiles over F32 panels of the dequantized
 * matrix, so the outputs are theirs bit for bit, whatever the tile, the batch or the thread split. A group's offsets
 * are linear in its column (C2 hoists the bounds checks), and a panel is read front to back as one stream.
 *
 * <p>Each tile is one self-contained method: no vector crosses a call (a call C2 does not inline boxes it).
 */
final class Int8Tile {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** L bytes, widened to L floats. */
    private static final VectorSpecies<Byte> B = RowDecoder.B;

    private Int8Tile() {
    }

    /**
     * Panels at byte offsets p0..p3 of {@code s} (p2, p3 may repeat p0, p1: computed again, stored again) against the
     * token x[xb..]; rows r0.., r1.., r2.., r3.. go to out[ob + r..]. 4 independent chains, for a single stream is
     * bound by the fused multiply-add's latency with 2.
     */
    static void tile1(MemorySegment s, long p0, long p1, long p2, long p3, int cols, float[] x, int xb, float[] out, int ob, int rows,
                      int r0, int r1, int r2, int r3) {
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        for (int k0 = 0; k0 < cols; k0 += Int8Panels.GROUP) {
            long g = Int8Panels.scales(k0), q = Int8Panels.quants(k0);
            FloatVector s0 = FloatVector.fromMemorySegment(F, s, p0 + g, LE), s1 = FloatVector.fromMemorySegment(F, s, p1 + g, LE);
            FloatVector s2 = FloatVector.fromMemorySegment(F, s, p2 + g, LE), s3 = FloatVector.fromMemorySegment(F, s, p3 + g, LE);
            int xg = xb + k0;
            for (int k = 0; k < Int8Panels.GROUP; k++) {
                long o = q + (long) L * k;
                FloatVector t = FloatVector.broadcast(F, x[xg + k]);
                a = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s0).fma(t, a);
                b = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s1).fma(t, b);
                c = ((FloatVector) ByteVector.fromMemorySegment(B, s, p2 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s2).fma(t, c);
                d = ((FloatVector) ByteVector.fromMemorySegment(B, s, p3 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s3).fma(t, d);
            }
        }
        // last panel first: a repeated panel's slot is an earlier one, written last with the same values
        d.intoArray(out, ob + r3, F.indexInRange(r3, rows));
        c.intoArray(out, ob + r2, F.indexInRange(r2, rows));
        b.intoArray(out, ob + r1, F.indexInRange(r1, rows));
        a.intoArray(out, ob + r0, F.indexInRange(r0, rows));
    }

    /**
     * Panels at byte offsets p0, p1 of {@code s} against tokens x[xb + j*cols..], j <= last < 8; rows r0.. and r1.. of
     * token j go to out[ob + j*rows + r..]. Tokens past {@code last} repeat the last one (and r1 may equal r0): computed
     * again, stored again with the same values.
     */
    static void tile8(MemorySegment s, long p0, long p1, int cols, float[] x, int xb, int last, float[] out, int ob, int rows, int r0, int r1) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector b4 = FloatVector.zero(F), b5 = FloatVector.zero(F), b6 = FloatVector.zero(F), b7 = FloatVector.zero(F);
        int j1 = Math.min(1, last), j2 = Math.min(2, last), j3 = Math.min(3, last);
        int j4 = Math.min(4, last), j5 = Math.min(5, last), j6 = Math.min(6, last), j7 = Math.min(7, last);
        for (int k0 = 0; k0 < cols; k0 += Int8Panels.GROUP) {
            long g = Int8Panels.scales(k0), q = Int8Panels.quants(k0);
            FloatVector s0 = FloatVector.fromMemorySegment(F, s, p0 + g, LE), s1 = FloatVector.fromMemorySegment(F, s, p1 + g, LE);
            int x0 = xb + k0, x1 = x0 + j1 * cols, x2 = x0 + j2 * cols, x3 = x0 + j3 * cols;
            int x4 = x0 + j4 * cols, x5 = x0 + j5 * cols, x6 = x0 + j6 * cols, x7 = x0 + j7 * cols;
            for (int k = 0; k < Int8Panels.GROUP; k++) {
                long o = q + (long) L * k;
                FloatVector v = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s0);
                FloatVector u = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s1);
                FloatVector t = FloatVector.broadcast(F, x[x0 + k]);
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

    /** {@link #tile8} for at most 4 tokens (j <= last < 4): half the multiply-adds when few tokens remain. */
    static void tile4(MemorySegment s, long p0, long p1, int cols, float[] x, int xb, int last, float[] out, int ob, int rows, int r0, int r1) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int j1 = Math.min(1, last), j2 = Math.min(2, last), j3 = Math.min(3, last);
        for (int k0 = 0; k0 < cols; k0 += Int8Panels.GROUP) {
            long g = Int8Panels.scales(k0), q = Int8Panels.quants(k0);
            FloatVector s0 = FloatVector.fromMemorySegment(F, s, p0 + g, LE), s1 = FloatVector.fromMemorySegment(F, s, p1 + g, LE);
            int x0 = xb + k0, x1 = x0 + j1 * cols, x2 = x0 + j2 * cols, x3 = x0 + j3 * cols;
            for (int k = 0; k < Int8Panels.GROUP; k++) {
                long o = q + (long) L * k;
                FloatVector v = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s0);
                FloatVector u = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + o, LE).convertShape(VectorOperators.B2F, F, 0)).mul(s1);
                FloatVector t = FloatVector.broadcast(F, x[x0 + k]);
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
}
