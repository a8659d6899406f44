package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles over {@link Q4KPanels}: 4 panels x 1 token (a single stream) and 2 panels x up to 4 tokens. Every
 * output element, whatever the tile, is computed as: from 0, per sub-block j in ascending order,
 * {@code s = fma(q[c], x[c], s)} then {@code s = fma(q[c + 16], x[c + 16], s)} for c = 0..15 from s = 0, then
 * {@code acc = fma(d * scale, s, acc)} and {@code acc = fma(-dmin * min, sum_j, acc)}, where sum_j is the sub-block's
 * activation sum ({@link #sums}): one fixed order, so a token's outputs are bit-identical alone or in any batch. A
 * nibble becomes a float by a lane lookup in the vector 0, 1, ..., 15 (one permute; the lookup wraps its index to the
 * low 4 bits, so the low nibble needs no mask), not a mask and a conversion.
 *
 * <p>Each tile is one self-contained method: no vector crosses a call (a call C2 does not inline boxes it).
 */
final class Q4KTile {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Byte> B = RowDecoder.B;
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    private Q4KTile() {
    }

    /**
     * Tokens [t0, t1) of x (token t at xb + t*cols): sub-block j's activation sum, added in column order from 0, into
     * sums[(t - t0) * cols/32 + j].
     */
    static void sums(float[] x, int xb, int cols, int t0, int t1, float[] sums) {
        int subBlocks = cols / Q4KPanels.SUB;
        for (int t = t0; t < t1; t++) {
            for (int j = 0; j < subBlocks; j++) {
                int k = xb + t * cols + Q4KPanels.SUB * j;
                float sum = 0;
                for (int c = 0; c < Q4KPanels.SUB; c++) {
                    sum += x[k + c];
                }
                sums[(t - t0) * subBlocks + j] = sum;
            }
        }
    }

    /**
     * Panels at byte offsets p0..p3 of {@code s} (p2, p3 may repeat p0, p1: computed again, stored again) against the
     * token x[xb..] whose sub-block sums start at sums[so]; rows r0.., r1.., r2.., r3.. go to out[ob + r..].
     */
    static void tile1(MemorySegment s, long p0, long p1, long p2, long p3, int cols, float[] x, int xb, float[] sums, int so,
                      float[] out, int ob, int rows, int r0, int r1, int r2, int r3) {
        IntVector nib = FloatVector.zero(F).addIndex(1).reinterpretAsInts();
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        for (int j = 0; j < cols / Q4KPanels.SUB; j++) {
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            long n = Q4KPanels.nibbles(j);
            int xj = xb + Q4KPanels.SUB * j;
            for (int k = 0; k < 16; k++) {
                long o = n + (long) L * k;
                FloatVector t = FloatVector.broadcast(F, x[xj + k]), u = FloatVector.broadcast(F, x[xj + k + 16]);
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, p0 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, p1 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, s, p2 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, s, p3 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                s0 = q0.selectFrom(nib).reinterpretAsFloats().fma(t, s0);
                s1 = q1.selectFrom(nib).reinterpretAsFloats().fma(t, s1);
                s2 = q2.selectFrom(nib).reinterpretAsFloats().fma(t, s2);
                s3 = q3.selectFrom(nib).reinterpretAsFloats().fma(t, s3);
                s0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(nib).reinterpretAsFloats().fma(u, s0);
                s1 = q1.lanewise(VectorOperators.LSHR, 4).selectFrom(nib).reinterpretAsFloats().fma(u, s1);
                s2 = q2.lanewise(VectorOperators.LSHR, 4).selectFrom(nib).reinterpretAsFloats().fma(u, s2);
                s3 = q3.lanewise(VectorOperators.LSHR, 4).selectFrom(nib).reinterpretAsFloats().fma(u, s3);
            }
            long g = Q4KPanels.scales(j), m = g + Q4KPanels.MINS - Q4KPanels.SCALES;
            long sd = Q4KPanels.SUPER_BYTES * (j >>> 3) + Q4KPanels.D, sm = Q4KPanels.SUPER_BYTES * (j >>> 3) + Q4KPanels.DMIN;
            FloatVector xs = FloatVector.broadcast(F, sums[so + j]);
            a = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p0 + sd, LE)).fma(s0, a);
            b = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p1 + sd, LE)).fma(s1, b);
            c = ((FloatVector) ByteVector.fromMemorySegment(B, s, p2 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p2 + sd, LE)).fma(s2, c);
            d = ((FloatVector) ByteVector.fromMemorySegment(B, s, p3 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p3 + sd, LE)).fma(s3, d);
            a = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + m, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p0 + sm, LE)).fma(xs, a);
            b = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + m, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p1 + sm, LE)).fma(xs, b);
            c = ((FloatVector) ByteVector.fromMemorySegment(B, s, p2 + m, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p2 + sm, LE)).fma(xs, c);
            d = ((FloatVector) ByteVector.fromMemorySegment(B, s, p3 + m, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p3 + sm, LE)).fma(xs, d);
        }
        // last panel first: a repeated panel's slot is an earlier one, written last with the same values
        d.intoArray(out, ob + r3, F.indexInRange(r3, rows));
        c.intoArray(out, ob + r2, F.indexInRange(r2, rows));
        b.intoArray(out, ob + r1, F.indexInRange(r1, rows));
        a.intoArray(out, ob + r0, F.indexInRange(r0, rows));
    }

    /**
     * Panels at p0, p1 against tokens x[xb + j*cols..], j <= last < 4, whose sub-block sums start at
     * sums[so + j*cols/32]; rows r0.. and r1.. of token j go to out[ob + j*rows + r..]. Tokens past {@code last} repeat
     * the last one (and r1 may equal r0): computed again, stored again with the same values.
     */
    static void tile4(MemorySegment s, long p0, long p1, int cols, float[] x, int xb, float[] sums, int so, int last,
                      float[] out, int ob, int rows, int r0, int r1) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        IntVector nib = FloatVector.zero(F).addIndex(1).reinterpretAsInts();
        int subBlocks = cols / Q4KPanels.SUB;
        int j1 = Math.min(1, last), j2 = Math.min(2, last), j3 = Math.min(3, last);
        int x1 = xb + j1 * cols, x2 = xb + j2 * cols, x3 = xb + j3 * cols;
        for (int j = 0; j < subBlocks; j++) {
            FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
            FloatVector e0 = FloatVector.zero(F), e1 = FloatVector.zero(F), e2 = FloatVector.zero(F), e3 = FloatVector.zero(F);
            long n = Q4KPanels.nibbles(j);
            int xj = Q4KPanels.SUB * j;
            for (int k = xj; k < xj + 16; k++) {
                long o = n + (long) L * (k - xj);
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, s, p0 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector r = (IntVector) ByteVector.fromMemorySegment(B, s, p1 + o, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                FloatVector v = q.selectFrom(nib).reinterpretAsFloats();
                FloatVector vh = q.lanewise(VectorOperators.LSHR, 4).selectFrom(nib).reinterpretAsFloats();
                FloatVector w = r.selectFrom(nib).reinterpretAsFloats();
                FloatVector wh = r.lanewise(VectorOperators.LSHR, 4).selectFrom(nib).reinterpretAsFloats();
                FloatVector t = FloatVector.broadcast(F, x[xb + k]), u = FloatVector.broadcast(F, x[xb + k + 16]);
                c0 = vh.fma(u, v.fma(t, c0));
                e0 = wh.fma(u, w.fma(t, e0));
                t = FloatVector.broadcast(F, x[x1 + k]);
                u = FloatVector.broadcast(F, x[x1 + k + 16]);
                c1 = vh.fma(u, v.fma(t, c1));
                e1 = wh.fma(u, w.fma(t, e1));
                t = FloatVector.broadcast(F, x[x2 + k]);
                u = FloatVector.broadcast(F, x[x2 + k + 16]);
                c2 = vh.fma(u, v.fma(t, c2));
                e2 = wh.fma(u, w.fma(t, e2));
                t = FloatVector.broadcast(F, x[x3 + k]);
                u = FloatVector.broadcast(F, x[x3 + k + 16]);
                c3 = vh.fma(u, v.fma(t, c3));
                e3 = wh.fma(u, w.fma(t, e3));
            }
            long g = Q4KPanels.scales(j), m = g + Q4KPanels.MINS - Q4KPanels.SCALES;
            long sd = Q4KPanels.SUPER_BYTES * (j >>> 3) + Q4KPanels.D, sm = Q4KPanels.SUPER_BYTES * (j >>> 3) + Q4KPanels.DMIN;
            FloatVector step0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p0 + sd, LE)), step1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + g, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p1 + sd, LE));
            FloatVector off0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + m, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p0 + sm, LE)), off1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + m, LE).convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromMemorySegment(F, s, p1 + sm, LE));
            FloatVector xs = FloatVector.broadcast(F, sums[so + j]);
            a0 = off0.fma(xs, step0.fma(c0, a0));
            b0 = off1.fma(xs, step1.fma(e0, b0));
            xs = FloatVector.broadcast(F, sums[so + j1 * subBlocks + j]);
            a1 = off0.fma(xs, step0.fma(c1, a1));
            b1 = off1.fma(xs, step1.fma(e1, b1));
            xs = FloatVector.broadcast(F, sums[so + j2 * subBlocks + j]);
            a2 = off0.fma(xs, step0.fma(c2, a2));
            b2 = off1.fma(xs, step1.fma(e2, b2));
            xs = FloatVector.broadcast(F, sums[so + j3 * subBlocks + j]);
            a3 = off0.fma(xs, step0.fma(c3, a3));
            b3 = off1.fma(xs, step1.fma(e3, b3));
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
