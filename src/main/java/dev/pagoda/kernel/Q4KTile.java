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
 * Register tiles over {@link Q4KPanels} (Q4_K; Q5_K with {@code fifth}, its quants taken minus 16 and the sum's offset
 * added back in integers, so the same sums): 4 panels x 1 token (a single stream) and 2 panels x up to 4 tokens, against
 * activations quantized to int8 ({@link Int8Activations}). Every output element, whatever the tile, is computed as:
 * per sub-block j in ascending order, the integer sum {@code n = sum(q[c] * x[c])} over its 32 columns (nibble times
 * int8 in int16 lanes: 16 products of at most 15 * 127 a lane, then the lane pair of a row added in int32; exact, so
 * in any order), then {@code acc = fma(d * scale * xscale, n, acc)} (the step exact: a power of two times an exact
 * product) and {@code acc = fma(-dmin * min, sum_j, acc)}, where sum_j is the sub-block's float activation sum: one
 * fixed order, so a token's outputs are bit-identical alone or in any batch. Against the dequantized F32 model the
 * only difference beyond float rounding is the activations' quantization: at most half a scale per activation.
 *
 * <p>Each tile is one self-contained method: no vector crosses a call (a call C2 does not inline boxes it).
 */
final class Q4KTile {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Byte> B = RowDecoder.B;
    /** 2L bytes, widened to 2L int16 lanes: 2 column pairs of L rows. */
    private static final VectorSpecies<Byte> B2 = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Short> S = F.withLanes(short.class);
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    private Q4KTile() {
    }

    /**
     * Panels at byte offsets p0..p3 of {@code s} (p2, p3 may repeat p0, p1: computed again, stored again) against token
     * t of {@code x}; rows r0.., r1.., r2.., r3.. go to out[ob + r..].
     */
    static void tile1(MemorySegment s, boolean fifth, long p0, long p1, long p2, long p3, int cols, Int8Activations x, int t,
                      float[] out, int ob, int rows, int r0, int r1, int r2, int r3) {
        int[] pairs = x.pairs, qsums = x.qsums;
        float[] scales = x.scales, sums = x.sums;
        long superBytes = Q4KPanels.superBytes(fifth);
        int subBlocks = cols / Q4KPanels.SUB, xt = t * subBlocks;
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        // super-block, then sub-block: offsets linear in each loop's variable, so C2 hoists the loads' bounds checks
        for (int sb = 0; sb < subBlocks / 8; sb++) {
            long base = superBytes * sb;
            FloatVector d0 = FloatVector.fromMemorySegment(F, s, p0 + base + Q4KPanels.D, LE), d1 = FloatVector.fromMemorySegment(F, s, p1 + base + Q4KPanels.D, LE);
            FloatVector d2 = FloatVector.fromMemorySegment(F, s, p2 + base + Q4KPanels.D, LE), d3 = FloatVector.fromMemorySegment(F, s, p3 + base + Q4KPanels.D, LE);
            FloatVector m0 = FloatVector.fromMemorySegment(F, s, p0 + base + Q4KPanels.DMIN, LE), m1 = FloatVector.fromMemorySegment(F, s, p1 + base + Q4KPanels.DMIN, LE);
            FloatVector m2 = FloatVector.fromMemorySegment(F, s, p2 + base + Q4KPanels.DMIN, LE), m3 = FloatVector.fromMemorySegment(F, s, p3 + base + Q4KPanels.DMIN, LE);
            for (int jj = 0; jj < 8; jj++) {
                int j = 8 * sb + jj;
                ShortVector s0 = ShortVector.zero(S), s1 = ShortVector.zero(S), s2 = ShortVector.zero(S), s3 = ShortVector.zero(S);
                long n = base + Q4KPanels.NIBBLES + 16L * L * jj;
                int xj = (Q4KPanels.SUB / 2) * (xt + j);
                for (int m = 0; m < 8; m++) {
                    long o = n + 2L * L * m;
                    ShortVector lo = IntVector.broadcast(I, pairs[xj + m]).reinterpretAsShorts();
                    ShortVector hi = IntVector.broadcast(I, pairs[xj + m + 8]).reinterpretAsShorts();
                    ShortVector q0 = (ShortVector) ByteVector.fromMemorySegment(B2, s, p0 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector q1 = (ShortVector) ByteVector.fromMemorySegment(B2, s, p1 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector q2 = (ShortVector) ByteVector.fromMemorySegment(B2, s, p2 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector q3 = (ShortVector) ByteVector.fromMemorySegment(B2, s, p3 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector l0 = q0.and((short) 15), h0 = q0.lanewise(VectorOperators.LSHR, 4);
                    ShortVector l1 = q1.and((short) 15), h1 = q1.lanewise(VectorOperators.LSHR, 4);
                    ShortVector l2 = q2.and((short) 15), h2 = q2.lanewise(VectorOperators.LSHR, 4);
                    ShortVector l3 = q3.and((short) 15), h3 = q3.lanewise(VectorOperators.LSHR, 4);
                    if (fifth) {  // the quants minus 16: nibble - 16 * (1 - fifth bit)
                        long f = base + Q4KPanels.FIFTH + 4L * L * jj + 2L * L * (m >> 2);
                        int shift = 2 * (m & 3);
                        ShortVector f0 = ((ShortVector) ByteVector.fromMemorySegment(B2, s, p0 + f, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, shift);
                        ShortVector f1 = ((ShortVector) ByteVector.fromMemorySegment(B2, s, p1 + f, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, shift);
                        ShortVector f2 = ((ShortVector) ByteVector.fromMemorySegment(B2, s, p2 + f, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, shift);
                        ShortVector f3 = ((ShortVector) ByteVector.fromMemorySegment(B2, s, p3 + f, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, shift);
                        l0 = l0.sub(f0.and((short) 1).lanewise(VectorOperators.LSHL, 4));
                        h0 = h0.sub(f0.and((short) 2).lanewise(VectorOperators.LSHL, 3));
                        l1 = l1.sub(f1.and((short) 1).lanewise(VectorOperators.LSHL, 4));
                        h1 = h1.sub(f1.and((short) 2).lanewise(VectorOperators.LSHL, 3));
                        l2 = l2.sub(f2.and((short) 1).lanewise(VectorOperators.LSHL, 4));
                        h2 = h2.sub(f2.and((short) 2).lanewise(VectorOperators.LSHL, 3));
                        l3 = l3.sub(f3.and((short) 1).lanewise(VectorOperators.LSHL, 4));
                        h3 = h3.sub(f3.and((short) 2).lanewise(VectorOperators.LSHL, 3));
                    }
                    s0 = s0.add(l0.mul(lo)).add(h0.mul(hi));
                    s1 = s1.add(l1.mul(lo)).add(h1.mul(hi));
                    s2 = s2.add(l2.mul(lo)).add(h2.mul(hi));
                    s3 = s3.add(l3.mul(lo)).add(h3.mul(hi));
                }
                // a row's two int16 lanes added as int32 (Q5_K: plus 16 * sum(x), the quants' offset), then float
                IntVector i0 = s0.reinterpretAsInts(), i1 = s1.reinterpretAsInts(), i2 = s2.reinterpretAsInts(), i3 = s3.reinterpretAsInts();
                int back = fifth ? 16 * qsums[xt + j] : 0;
                FloatVector f0 = (FloatVector) i0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i0.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0);
                FloatVector f1 = (FloatVector) i1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i1.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0);
                FloatVector f2 = (FloatVector) i2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i2.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0);
                FloatVector f3 = (FloatVector) i3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i3.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0);
                long g = base + Q4KPanels.SCALES + (long) L * jj, mn = g + Q4KPanels.MINS - Q4KPanels.SCALES;
                float dx = scales[xt + j];
                FloatVector xs = FloatVector.broadcast(F, sums[xt + j]);
                a = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d0).mul(dx).fma(f0, a);
                b = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d1).mul(dx).fma(f1, b);
                c = ((FloatVector) ByteVector.fromMemorySegment(B, s, p2 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d2).mul(dx).fma(f2, c);
                d = ((FloatVector) ByteVector.fromMemorySegment(B, s, p3 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d3).mul(dx).fma(f3, d);
                a = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + mn, LE).convertShape(VectorOperators.B2F, F, 0)).mul(m0).fma(xs, a);
                b = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + mn, LE).convertShape(VectorOperators.B2F, F, 0)).mul(m1).fma(xs, b);
                c = ((FloatVector) ByteVector.fromMemorySegment(B, s, p2 + mn, LE).convertShape(VectorOperators.B2F, F, 0)).mul(m2).fma(xs, c);
                d = ((FloatVector) ByteVector.fromMemorySegment(B, s, p3 + mn, LE).convertShape(VectorOperators.B2F, F, 0)).mul(m3).fma(xs, d);
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
    static void tile4(MemorySegment s, boolean fifth, long p0, long p1, int cols, Int8Activations x, int t, int last,
                      float[] out, int ob, int rows, int r0, int r1) {
        int[] pairs = x.pairs, qsums = x.qsums;
        float[] scales = x.scales, sums = x.sums;
        long superBytes = Q4KPanels.superBytes(fifth);
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int subBlocks = cols / Q4KPanels.SUB;
        int j1 = Math.min(1, last), j2 = Math.min(2, last), j3 = Math.min(3, last);
        int x0 = t * subBlocks, x1 = (t + j1) * subBlocks, x2 = (t + j2) * subBlocks, x3 = (t + j3) * subBlocks;
        for (int sb = 0; sb < subBlocks / 8; sb++) {
            long base = superBytes * sb;
            FloatVector d0 = FloatVector.fromMemorySegment(F, s, p0 + base + Q4KPanels.D, LE), d1 = FloatVector.fromMemorySegment(F, s, p1 + base + Q4KPanels.D, LE);
            FloatVector m0 = FloatVector.fromMemorySegment(F, s, p0 + base + Q4KPanels.DMIN, LE), m1 = FloatVector.fromMemorySegment(F, s, p1 + base + Q4KPanels.DMIN, LE);
            for (int jj = 0; jj < 8; jj++) {
                int j = 8 * sb + jj;
                ShortVector c0 = ShortVector.zero(S), c1 = ShortVector.zero(S), c2 = ShortVector.zero(S), c3 = ShortVector.zero(S);
                ShortVector e0 = ShortVector.zero(S), e1 = ShortVector.zero(S), e2 = ShortVector.zero(S), e3 = ShortVector.zero(S);
                long n = base + Q4KPanels.NIBBLES + 16L * L * jj;
                int h = Q4KPanels.SUB / 2;
                int y0 = h * (x0 + j), y1 = h * (x1 + j), y2 = h * (x2 + j), y3 = h * (x3 + j);
                for (int m = 0; m < 8; m++) {
                    long o = n + 2L * L * m;
                    ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B2, s, p0 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector r = (ShortVector) ByteVector.fromMemorySegment(B2, s, p1 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector ql = q.and((short) 15), qh = q.lanewise(VectorOperators.LSHR, 4);
                    ShortVector rl = r.and((short) 15), rh = r.lanewise(VectorOperators.LSHR, 4);
                    if (fifth) {  // the quants minus 16, as in tile1
                        long f = base + Q4KPanels.FIFTH + 4L * L * jj + 2L * L * (m >> 2);
                        int shift = 2 * (m & 3);
                        ShortVector fq = ((ShortVector) ByteVector.fromMemorySegment(B2, s, p0 + f, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, shift);
                        ShortVector fr = ((ShortVector) ByteVector.fromMemorySegment(B2, s, p1 + f, LE).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0)).lanewise(VectorOperators.LSHR, shift);
                        ql = ql.sub(fq.and((short) 1).lanewise(VectorOperators.LSHL, 4));
                        qh = qh.sub(fq.and((short) 2).lanewise(VectorOperators.LSHL, 3));
                        rl = rl.sub(fr.and((short) 1).lanewise(VectorOperators.LSHL, 4));
                        rh = rh.sub(fr.and((short) 2).lanewise(VectorOperators.LSHL, 3));
                    }
                    ShortVector lo = IntVector.broadcast(I, pairs[y0 + m]).reinterpretAsShorts(), hi = IntVector.broadcast(I, pairs[y0 + m + 8]).reinterpretAsShorts();
                    c0 = c0.add(ql.mul(lo)).add(qh.mul(hi));
                    e0 = e0.add(rl.mul(lo)).add(rh.mul(hi));
                    lo = IntVector.broadcast(I, pairs[y1 + m]).reinterpretAsShorts();
                    hi = IntVector.broadcast(I, pairs[y1 + m + 8]).reinterpretAsShorts();
                    c1 = c1.add(ql.mul(lo)).add(qh.mul(hi));
                    e1 = e1.add(rl.mul(lo)).add(rh.mul(hi));
                    lo = IntVector.broadcast(I, pairs[y2 + m]).reinterpretAsShorts();
                    hi = IntVector.broadcast(I, pairs[y2 + m + 8]).reinterpretAsShorts();
                    c2 = c2.add(ql.mul(lo)).add(qh.mul(hi));
                    e2 = e2.add(rl.mul(lo)).add(rh.mul(hi));
                    lo = IntVector.broadcast(I, pairs[y3 + m]).reinterpretAsShorts();
                    hi = IntVector.broadcast(I, pairs[y3 + m + 8]).reinterpretAsShorts();
                    c3 = c3.add(ql.mul(lo)).add(qh.mul(hi));
                    e3 = e3.add(rl.mul(lo)).add(rh.mul(hi));
                }
                long g = base + Q4KPanels.SCALES + (long) L * jj, mn = g + Q4KPanels.MINS - Q4KPanels.SCALES;
                FloatVector step0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d0);
                FloatVector step1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d1);
                FloatVector off0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + mn, LE).convertShape(VectorOperators.B2F, F, 0)).mul(m0);
                FloatVector off1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + mn, LE).convertShape(VectorOperators.B2F, F, 0)).mul(m1);
                // per token: a row's two int16 lanes added as int32, then float, then the sub-block's steps
                IntVector i = c0.reinterpretAsInts(), k = e0.reinterpretAsInts();
                float dx = scales[x0 + j];
                int back = fifth ? 16 * qsums[x0 + j] : 0;
                FloatVector xs = FloatVector.broadcast(F, sums[x0 + j]);
                a0 = off0.fma(xs, step0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), a0));
                b0 = off1.fma(xs, step1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), b0));
                i = c1.reinterpretAsInts();
                k = e1.reinterpretAsInts();
                dx = scales[x1 + j];
                back = fifth ? 16 * qsums[x1 + j] : 0;
                xs = FloatVector.broadcast(F, sums[x1 + j]);
                a1 = off0.fma(xs, step0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), a1));
                b1 = off1.fma(xs, step1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), b1));
                i = c2.reinterpretAsInts();
                k = e2.reinterpretAsInts();
                dx = scales[x2 + j];
                back = fifth ? 16 * qsums[x2 + j] : 0;
                xs = FloatVector.broadcast(F, sums[x2 + j]);
                a2 = off0.fma(xs, step0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), a2));
                b2 = off1.fma(xs, step1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), b2));
                i = c3.reinterpretAsInts();
                k = e3.reinterpretAsInts();
                dx = scales[x3 + j];
                back = fifth ? 16 * qsums[x3 + j] : 0;
                xs = FloatVector.broadcast(F, sums[x3 + j]);
                a3 = off0.fma(xs, step0.mul(dx).fma((FloatVector) i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), a3));
                b3 = off1.fma(xs, step1.mul(dx).fma((FloatVector) k.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(k.lanewise(VectorOperators.ASHR, 16)).add(back).convert(VectorOperators.I2F, 0), b3));
            }
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
