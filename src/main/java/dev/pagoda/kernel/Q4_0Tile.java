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
 * Register tiles over {@link Q4_0Panels}: 4 panels x 1 token (a single stream) and 2 panels x up to 4 tokens, against
 * activations quantized to int8 ({@link Int8Activations}). Every output element, whatever the tile, is computed as: per
 * block in ascending order, the integer {@code n = sum(q[c] * x[c]) - 8 * sum(x[c])} over its 32 columns (nibble times
 * int8 in int16 lanes: 16 products of at most 15 * 127 a lane, then the lane pair of a row added in int32; exact, so in
 * any order), then {@code acc = fma(d * xscale, n, acc)} (the step exact: an f16 times a power of two): one fixed order,
 * so a token's outputs are bit-identical alone or in any batch. Against the dequantized F32 model the only difference
 * beyond float rounding is the activations' quantization: at most half a scale per activation.
 *
 * <p>Each tile is one self-contained method: no vector crosses a call (a call C2 does not inline boxes it).
 */
final class Q4_0Tile {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** 2L bytes, widened to 2L int16 lanes: 2 column pairs of L rows. */
    private static final VectorSpecies<Byte> B2 = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Short> S = F.withLanes(short.class);
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);
    private static final int STEPS = Q4_0Panels.BLOCK / 4;

    private Q4_0Tile() {
    }

    /**
     * Panels at byte offsets p0..p3 of {@code s} (p2, p3 may repeat p0, p1: computed again, stored again) against token
     * t of {@code x}; rows r0.., r1.., r2.., r3.. go to out[ob + r..].
     */
    static void tile1(MemorySegment s, long p0, long p1, long p2, long p3, int cols, Int8Activations x, int t,
                      float[] out, int ob, int rows, int r0, int r1, int r2, int r3) {
        int[] pairs = x.pairs, qsums = x.qsums;
        float[] scales = x.scales;
        int blocks = cols / Q4_0Panels.BLOCK, xt = t * blocks;
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        for (int j = 0; j < blocks; j++) {
            long base = Q4_0Panels.BLOCK_BYTES * j, n = base + Q4_0Panels.NIBBLES;
            int xj = (Q4_0Panels.BLOCK / 2) * (xt + j);
            ShortVector s0 = ShortVector.zero(S), s1 = ShortVector.zero(S), s2 = ShortVector.zero(S), s3 = ShortVector.zero(S);
            for (int m = 0; m < STEPS; m++) {
                long o = n + 2L * L * m;
                ShortVector lo = IntVector.broadcast(I, pairs[xj + m]).reinterpretAsShorts();
                ShortVector hi = IntVector.broadcast(I, pairs[xj + m + STEPS]).reinterpretAsShorts();
                ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(B2, s, p0 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(B2, s, p1 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector q2 = (ShortVector) ByteVector.fromMemorySegment(B2, s, p2 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector q3 = (ShortVector) ByteVector.fromMemorySegment(B2, s, p3 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                s0 = s0.add(q0.and((short) 15).mul(lo)).add(q0.lanewise(VectorOperators.LSHR, 4).mul(hi));
                s1 = s1.add(q1.and((short) 15).mul(lo)).add(q1.lanewise(VectorOperators.LSHR, 4).mul(hi));
                s2 = s2.add(q2.and((short) 15).mul(lo)).add(q2.lanewise(VectorOperators.LSHR, 4).mul(hi));
                s3 = s3.add(q3.and((short) 15).mul(lo)).add(q3.lanewise(VectorOperators.LSHR, 4).mul(hi));
            }
            // a row's two int16 lanes added as int32, less 8 * sum(x) (the quants' offset), then float
            IntVector i0 = s0.reinterpretAsInts(), i1 = s1.reinterpretAsInts(), i2 = s2.reinterpretAsInts(), i3 = s3.reinterpretAsInts();
            int back = -8 * qsums[xt + j];
            float dx = scales[xt + j];
            FloatVector f0 = (FloatVector) i0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i0.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0);
            FloatVector f1 = (FloatVector) i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i1.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0);
            FloatVector f2 = (FloatVector) i2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i2.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0);
            FloatVector f3 = (FloatVector) i3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i3.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0);
            a = FloatVector.fromMemorySegment(F, s, p0 + base, LE).mul(dx).fma(f0, a);
            b = FloatVector.fromMemorySegment(F, s, p1 + base, LE).mul(dx).fma(f1, b);
            c = FloatVector.fromMemorySegment(F, s, p2 + base, LE).mul(dx).fma(f2, c);
            d = FloatVector.fromMemorySegment(F, s, p3 + base, LE).mul(dx).fma(f3, d);
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
        int[] pairs = x.pairs, qsums = x.qsums;
        float[] scales = x.scales;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int blocks = cols / Q4_0Panels.BLOCK;
        int j1 = Math.min(1, last), j2 = Math.min(2, last), j3 = Math.min(3, last);
        int x0 = t * blocks, x1 = (t + j1) * blocks, x2 = (t + j2) * blocks, x3 = (t + j3) * blocks;
        for (int j = 0; j < blocks; j++) {
            long base = Q4_0Panels.BLOCK_BYTES * j, n = base + Q4_0Panels.NIBBLES;
            ShortVector c0 = ShortVector.zero(S), c1 = ShortVector.zero(S), c2 = ShortVector.zero(S), c3 = ShortVector.zero(S);
            ShortVector e0 = ShortVector.zero(S), e1 = ShortVector.zero(S), e2 = ShortVector.zero(S), e3 = ShortVector.zero(S);
            int h = Q4_0Panels.BLOCK / 2;
            int y0 = h * (x0 + j), y1 = h * (x1 + j), y2 = h * (x2 + j), y3 = h * (x3 + j);
            for (int m = 0; m < STEPS; m++) {
                long o = n + 2L * L * m;
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B2, s, p0 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector r = (ShortVector) ByteVector.fromMemorySegment(B2, s, p1 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector ql = q.and((short) 15), qh = q.lanewise(VectorOperators.LSHR, 4);
                ShortVector rl = r.and((short) 15), rh = r.lanewise(VectorOperators.LSHR, 4);
                ShortVector lo = IntVector.broadcast(I, pairs[y0 + m]).reinterpretAsShorts(), hi = IntVector.broadcast(I, pairs[y0 + m + STEPS]).reinterpretAsShorts();
                c0 = c0.add(ql.mul(lo)).add(qh.mul(hi));
                e0 = e0.add(rl.mul(lo)).add(rh.mul(hi));
                lo = IntVector.broadcast(I, pairs[y1 + m]).reinterpretAsShorts();
                hi = IntVector.broadcast(I, pairs[y1 + m + STEPS]).reinterpretAsShorts();
                c1 = c1.add(ql.mul(lo)).add(qh.mul(hi));
                e1 = e1.add(rl.mul(lo)).add(rh.mul(hi));
                lo = IntVector.broadcast(I, pairs[y2 + m]).reinterpretAsShorts();
                hi = IntVector.broadcast(I, pairs[y2 + m + STEPS]).reinterpretAsShorts();
                c2 = c2.add(ql.mul(lo)).add(qh.mul(hi));
                e2 = e2.add(rl.mul(lo)).add(rh.mul(hi));
                lo = IntVector.broadcast(I, pairs[y3 + m]).reinterpretAsShorts();
                hi = IntVector.broadcast(I, pairs[y3 + m + STEPS]).reinterpretAsShorts();
                c3 = c3.add(ql.mul(lo)).add(qh.mul(hi));
                e3 = e3.add(rl.mul(lo)).add(rh.mul(hi));
            }
            FloatVector d0 = FloatVector.fromMemorySegment(F, s, p0 + base, LE), d1 = FloatVector.fromMemorySegment(F, s, p1 + base, LE);
            // per token: a row's two int16 lanes added as int32 less 8 * sum(x), then float, then the block's step
            IntVector i = c0.reinterpretAsInts(), k = e0.reinterpretAsInts();
            int back = -8 * qsums[x0 + j];
            float dx = scales[x0 + j];
            a0 = d0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), a0);
            b0 = d1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), b0);
            i = c1.reinterpretAsInts();
            k = e1.reinterpretAsInts();
            back = -8 * qsums[x1 + j];
            dx = scales[x1 + j];
            a1 = d0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), a1);
            b1 = d1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), b1);
            i = c2.reinterpretAsInts();
            k = e2.reinterpretAsInts();
            back = -8 * qsums[x2 + j];
            dx = scales[x2 + j];
            a2 = d0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), a2);
            b2 = d1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), b2);
            i = c3.reinterpretAsInts();
            k = e3.reinterpretAsInts();
            back = -8 * qsums[x3 + j];
            dx = scales[x3 + j];
            a3 = d0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), a3);
            b3 = d1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), b3);
        }
        var mr = F.indexInRange(r0, rows);
        var nr = F.indexInRange(r1, rows);
        a3.intoArray(out, ob + j3 * rows + r0, mr);
        b3.intoArray(out, ob + j3 * rows + r1, nr);
        a2.intoArray(out, ob + j2 * rows + r0, mr);
        b2.intoArray(out, ob + j2 * rows + r1, nr);
        a1.intoArray(out, ob + j1 * rows + r0, mr);
        b1.intoArray(out, ob + j1 * rows + r1, nr);
        a0.intoArray(out, ob + r0, mr);
        b0.intoArray(out, ob + r1, nr);
    }
}
