package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register tiles over {@link Q6KPanels}: 4 panels x 1 token (a single stream) and 2 panels x up to 4 tokens. Every
 * output element, whatever the tile, is computed as: from 0, per group g of 16 columns in ascending order,
 * {@code s = fma(q[k], x[k], s)} for its columns in order from s = 0, then {@code acc = fma(d * scale, s, acc)}: one
 * fixed order, so a token's outputs are bit-identical alone or in any batch.
 *
 * <p>Each tile is one self-contained method: no vector crosses a call (a call C2 does not inline boxes it).
 */
final class Q6KTile {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Byte> B = RowDecoder.B;

    private Q6KTile() {
    }

    /**
     * Panels at byte offsets p0..p3 of {@code s} (p2, p3 may repeat p0, p1: computed again, stored again) against the
     * token x[xb..]; rows r0.., r1.., r2.., r3.. go to out[ob + r..].
     */
    static void tile1(MemorySegment s, long p0, long p1, long p2, long p3, int cols, float[] x, int xb,
                      float[] out, int ob, int rows, int r0, int r1, int r2, int r3) {
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F), c = FloatVector.zero(F), d = FloatVector.zero(F);
        for (int g = 0; g < cols / Q6KPanels.GROUP; g++) {
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            long q = Q6KPanels.quants(Q6KPanels.GROUP * g);
            int xg = xb + Q6KPanels.GROUP * g;
            for (int k = 0; k < Q6KPanels.GROUP; k++) {
                long o = q + (long) L * k;
                FloatVector t = FloatVector.broadcast(F, x[xg + k]);
                s0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + o, LE).convertShape(VectorOperators.B2F, F, 0)).fma(t, s0);
                s1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + o, LE).convertShape(VectorOperators.B2F, F, 0)).fma(t, s1);
                s2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p2 + o, LE).convertShape(VectorOperators.B2F, F, 0)).fma(t, s2);
                s3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p3 + o, LE).convertShape(VectorOperators.B2F, F, 0)).fma(t, s3);
            }
            long sc = Q6KPanels.scales(g), sd = Q6KPanels.SUPER_BYTES * (g >>> 4) + Q6KPanels.D;
            a = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + sc, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromMemorySegment(F, s, p0 + sd, LE)).fma(s0, a);
            b = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + sc, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromMemorySegment(F, s, p1 + sd, LE)).fma(s1, b);
            c = ((FloatVector) ByteVector.fromMemorySegment(B, s, p2 + sc, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromMemorySegment(F, s, p2 + sd, LE)).fma(s2, c);
            d = ((FloatVector) ByteVector.fromMemorySegment(B, s, p3 + sc, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromMemorySegment(F, s, p3 + sd, LE)).fma(s3, d);
        }
        // last panel first: a repeated panel's slot is an earlier one, written last with the same values
        d.intoArray(out, ob + r3, F.indexInRange(r3, rows));
        c.intoArray(out, ob + r2, F.indexInRange(r2, rows));
        b.intoArray(out, ob + r1, F.indexInRange(r1, rows));
        a.intoArray(out, ob + r0, F.indexInRange(r0, rows));
    }

    /**
     * Panels at p0, p1 against tokens x[xb + j*cols..], j <= last < 4; rows r0.. and r1.. of token j go to
     * out[ob + j*rows + r..]. Tokens past {@code last} repeat the last one (and r1 may equal r0): computed again, stored
     * again with the same values.
     */
    static void tile4(MemorySegment s, long p0, long p1, int cols, float[] x, int xb, int last,
                      float[] out, int ob, int rows, int r0, int r1) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        FloatVector b0 = FloatVector.zero(F), b1 = FloatVector.zero(F), b2 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        int j1 = Math.min(1, last), j2 = Math.min(2, last), j3 = Math.min(3, last);
        int x1 = xb + j1 * cols, x2 = xb + j2 * cols, x3 = xb + j3 * cols;
        for (int g = 0; g < cols / Q6KPanels.GROUP; g++) {
            FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
            FloatVector e0 = FloatVector.zero(F), e1 = FloatVector.zero(F), e2 = FloatVector.zero(F), e3 = FloatVector.zero(F);
            long q = Q6KPanels.quants(Q6KPanels.GROUP * g);
            int k0 = Q6KPanels.GROUP * g;
            for (int k = k0; k < k0 + Q6KPanels.GROUP; k++) {
                long o = q + (long) L * (k - k0);
                FloatVector v = (FloatVector) ByteVector.fromMemorySegment(B, s, p0 + o, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector w = (FloatVector) ByteVector.fromMemorySegment(B, s, p1 + o, LE).convertShape(VectorOperators.B2F, F, 0);
                FloatVector t = FloatVector.broadcast(F, x[xb + k]);
                c0 = v.fma(t, c0);
                e0 = w.fma(t, e0);
                t = FloatVector.broadcast(F, x[x1 + k]);
                c1 = v.fma(t, c1);
                e1 = w.fma(t, e1);
                t = FloatVector.broadcast(F, x[x2 + k]);
                c2 = v.fma(t, c2);
                e2 = w.fma(t, e2);
                t = FloatVector.broadcast(F, x[x3 + k]);
                c3 = v.fma(t, c3);
                e3 = w.fma(t, e3);
            }
            long sc = Q6KPanels.scales(g), sd = Q6KPanels.SUPER_BYTES * (g >>> 4) + Q6KPanels.D;
            FloatVector scale0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p0 + sc, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromMemorySegment(F, s, p0 + sd, LE));
            FloatVector scale1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p1 + sc, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromMemorySegment(F, s, p1 + sd, LE));
            a0 = scale0.fma(c0, a0);
            b0 = scale1.fma(e0, b0);
            a1 = scale0.fma(c1, a1);
            b1 = scale1.fma(e1, b1);
            a2 = scale0.fma(c2, a2);
            b2 = scale1.fma(e2, b2);
            a3 = scale0.fma(c3, a3);
            b3 = scale1.fma(e3, b3);
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
