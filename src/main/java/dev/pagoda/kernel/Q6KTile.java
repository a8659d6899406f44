package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles over {@link Q6KPanels}: 4 panels x 1 token (a single stream) and 2 panels x up to 4 tokens, against
 * activations quantized to int8 ({@link Int8Activations}). Every output element, whatever the tile, is computed as:
 * per group g of 16 columns in ascending order, the integer sum {@code n = sum(q[k] * x[k])} over its columns (int8
 * times int8 in int16 lanes: 8 products of at most 32 * 127 a lane, then the lane pair of a row added in int32; exact,
 * so in any order), then {@code acc = fma(d * scale * xscale, n, acc)} (the step exact: a power of two times an exact
 * product): one fixed order, so a token's outputs are bit-identical alone or in any batch. Against the dequantized F32
 * model the only difference beyond float rounding is the activations' quantization: at most half a scale per
 * activation.
 *
 * <p>Each tile is one self-contained method: no vector crosses a call (a call C2 does not inline boxes it).
 */
final class Q6KTile {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Byte> B = RowDecoder.B;
    /** 2L bytes, widened to 2L int16 lanes: 2 columns of L rows. */
    private static final VectorSpecies<Byte> B2 = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Short> S = F.withLanes(short.class);
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** Groups per block of activations (one scale). */
    private static final int PER_BLOCK = Int8Activations.BLOCK / Q6KPanels.GROUP;

    private Q6KTile() {
    }

    /**
     * Panels at byte offsets p0..p3 of {@code s} (p2, p3 may repeat p0, p1: computed again, stored again) against token
     * t of {@code x}; rows r0.., r1.., r2.., r3.. go to out[ob + r..].
     */
    static void tile1(MemorySegment s, long p0, long p1, long p2, long p3, int cols, Int8Activations x, int t,
                      float[] out, int ob, int rows, int r0, int r1, int r2, int r3) {
        int[] pairs = x.pairs;
        float[] scales = x.scales;
        int xt = t * (cols / Int8Activations.BLOCK);
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        // super-block, then group: offsets linear in each loop's variable, so C2 hoists the loads' bounds checks
        for (int sb = 0; sb < cols / Q6KPanels.SUPER; sb++) {
            long base = Q6KPanels.SUPER_BYTES * sb;
            FloatVector d0 = FloatVector.fromMemorySegment(F, s, p0 + base + Q6KPanels.D, LE), d1 = FloatVector.fromMemorySegment(F, s, p1 + base + Q6KPanels.D, LE);
            FloatVector d2 = FloatVector.fromMemorySegment(F, s, p2 + base + Q6KPanels.D, LE), d3 = FloatVector.fromMemorySegment(F, s, p3 + base + Q6KPanels.D, LE);
            for (int gg = 0; gg < 16; gg++) {
                int g = 16 * sb + gg;
                ShortVector s0 = ShortVector.zero(S), s1 = ShortVector.zero(S), s2 = ShortVector.zero(S), s3 = ShortVector.zero(S);
                long q = base + Q6KPanels.QUANTS + (long) L * Q6KPanels.GROUP * gg;
                int xg = t * (cols / 2) + (Q6KPanels.GROUP / 2) * g;
                for (int m = 0; m < Q6KPanels.GROUP / 2; m++) {
                    long o = q + 2L * L * m;
                    ShortVector u = IntVector.broadcast(I, pairs[xg + m]).reinterpretAsShorts();
                    s0 = s0.add(((ShortVector) ByteVector.fromMemorySegment(B2, s, p0 + o, LE).convertShape(VectorOperators.B2S, S, 0)).mul(u));
                    s1 = s1.add(((ShortVector) ByteVector.fromMemorySegment(B2, s, p1 + o, LE).convertShape(VectorOperators.B2S, S, 0)).mul(u));
                    s2 = s2.add(((ShortVector) ByteVector.fromMemorySegment(B2, s, p2 + o, LE).convertShape(VectorOperators.B2S, S, 0)).mul(u));
                    s3 = s3.add(((ShortVector) ByteVector.fromMemorySegment(B2, s, p3 + o, LE).convertShape(VectorOperators.B2S, S, 0)).mul(u));
                }
                // a row's two int16 lanes added as int32, then float
                IntVector i0 = s0.reinterpretAsInts(), i1 = s1.reinterpretAsInts(), i2 = s2.reinterpretAsInts(), i3 = s3.reinterpretAsInts();
                FloatVector f0 = (FloatVector) i0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i0.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
                FloatVector f1 = (FloatVector) i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i1.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
                FloatVector f2 = (FloatVector) i2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i2.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
                FloatVector f3 = (FloatVector) i3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i3.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0);
                long sc = base + Q6KPanels.SCALES + (long) L * gg;
                float dx = scales[xt + g / PER_BLOCK];
                a = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + sc, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d0).mul(dx).fma(f0, a);
                b = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + sc, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d1).mul(dx).fma(f1, b);
                c = ((FloatVector) ByteVector.fromMemorySegment(B, s, p2 + sc, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d2).mul(dx).fma(f2, c);
                d = ((FloatVector) ByteVector.fromMemorySegment(B, s, p3 + sc, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d3).mul(dx).fma(f3, d);
            }
        }
        // last panel first: a repeated panel's slot is an earlier one, written last with the same values
        d.intoArray(out, ob + r3, F.indexInRange(r3, rows));
        c.intoArray(out, ob + r2, F.indexInRange(r2, rows));
        b.intoArray(out, ob + r1, F.indexInRange(r1, rows));
        a.intoArray(out, ob + r0, F.indexInRange(r0, rows));
    }

    /**
     * Panels at p0, p1 against tokens t + j of {@code x}, j <= last < 4; rows r0.. and r1.. of token j go to
     * out[ob + j*rows + r..]. Tokens past {@code last} repeat the last one (and r1 may equal r0): computed again, stored
     * again with the same values.
     */
    static void tile4(MemorySegment s, long p0, long p1, int cols, Int8Activations x, int t, int last,
                      float[] out, int ob, int rows, int r0, int r1) {
        int[] pairs = x.pairs;
        float[] scales = x.scales;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int j1 = Math.min(1, last), j2 = Math.min(2, last), j3 = Math.min(3, last);
        int blocks = cols / Int8Activations.BLOCK;
        int x0 = t * blocks, x1 = (t + j1) * blocks, x2 = (t + j2) * blocks, x3 = (t + j3) * blocks;
        int h = Int8Activations.BLOCK / 2;
        for (int sb = 0; sb < cols / Q6KPanels.SUPER; sb++) {
            long base = Q6KPanels.SUPER_BYTES * sb;
            FloatVector d0 = FloatVector.fromMemorySegment(F, s, p0 + base + Q6KPanels.D, LE), d1 = FloatVector.fromMemorySegment(F, s, p1 + base + Q6KPanels.D, LE);
            for (int gg = 0; gg < 16; gg++) {
                int g = 16 * sb + gg;
                ShortVector c0 = ShortVector.zero(S), c1 = ShortVector.zero(S), c2 = ShortVector.zero(S), c3 = ShortVector.zero(S);
                ShortVector e0 = ShortVector.zero(S), e1 = ShortVector.zero(S), e2 = ShortVector.zero(S), e3 = ShortVector.zero(S);
                long q = base + Q6KPanels.QUANTS + (long) L * Q6KPanels.GROUP * gg;
                int k0 = (Q6KPanels.GROUP / 2) * g;
                int y0 = h * x0 + k0, y1 = h * x1 + k0, y2 = h * x2 + k0, y3 = h * x3 + k0;
                for (int m = 0; m < Q6KPanels.GROUP / 2; m++) {
                    long o = q + 2L * L * m;
                    ShortVector v = (ShortVector) ByteVector.fromMemorySegment(B2, s, p0 + o, LE).convertShape(VectorOperators.B2S, S, 0);
                    ShortVector w = (ShortVector) ByteVector.fromMemorySegment(B2, s, p1 + o, LE).convertShape(VectorOperators.B2S, S, 0);
                    ShortVector u = IntVector.broadcast(I, pairs[y0 + m]).reinterpretAsShorts();
                    c0 = c0.add(v.mul(u));
                    e0 = e0.add(w.mul(u));
                    u = IntVector.broadcast(I, pairs[y1 + m]).reinterpretAsShorts();
                    c1 = c1.add(v.mul(u));
                    e1 = e1.add(w.mul(u));
                    u = IntVector.broadcast(I, pairs[y2 + m]).reinterpretAsShorts();
                    c2 = c2.add(v.mul(u));
                    e2 = e2.add(w.mul(u));
                    u = IntVector.broadcast(I, pairs[y3 + m]).reinterpretAsShorts();
                    c3 = c3.add(v.mul(u));
                    e3 = e3.add(w.mul(u));
                }
                long sc = base + Q6KPanels.SCALES + (long) L * gg;
                FloatVector scale0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + sc, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d0);
                FloatVector scale1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + sc, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d1);
                // per token: a row's two int16 lanes added as int32, then float, then the group's step
                int xb = g / PER_BLOCK;
                IntVector i = c0.reinterpretAsInts(), k = e0.reinterpretAsInts();
                float dx = scales[x0 + xb];
                a0 = scale0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0), a0);
                b0 = scale1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0), b0);
                i = c1.reinterpretAsInts();
                k = e1.reinterpretAsInts();
                dx = scales[x1 + xb];
                a1 = scale0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0), a1);
                b1 = scale1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0), b1);
                i = c2.reinterpretAsInts();
                k = e2.reinterpretAsInts();
                dx = scales[x2 + xb];
                a2 = scale0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0), a2);
                b2 = scale1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0), b2);
                i = c3.reinterpretAsInts();
                k = e3.reinterpretAsInts();
                dx = scales[x3 + xb];
                a3 = scale0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0), a3);
                b3 = scale1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).convert(VectorOperators.I2F, 0), b3);
            }
        }
        var m = F.indexInRange(r0, rows);
        var n = F.indexInRange(r1, rows);
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
