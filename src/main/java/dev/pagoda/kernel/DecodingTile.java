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
 * 4 rows x 1 token register tiles over quantized rows that decode each chunk of L weights in registers, for
 * the few-token matmuls (single-stream decode), where decoding a block of rows to scratch and reading it back
 * costs more than the dot products. Each chunk is decoded with exactly the float operations of
 * {@link RowDecoder} and fed to the same fused multiply-add, chunks in ascending column order, so a tile's
 * accumulators equal those of {@code MatMul}'s 1-token tile over the decoded rows, bit for bit (batch invariance
 * between the two paths rests on it).
 *
 * <p>Every kernel is self-contained: no helper takes or returns a vector (see {@link RowDecoder} for why).
 */
final class DecodingTile {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * Nibbles and high bits are selected with shifts by a loop variable, done on int lanes: x86 has no byte shift,
     * and a byte vector shifted by a non-constant count is not intrinsified (it runs boxed).
     */
    private static final VectorSpecies<Integer> I = F.withLanes(int.class);

    private DecodingTile() {
    }

    /** Whether {@code type} rows of {@code cols} columns have a decoding tile on this machine's vectors. */
    static boolean supports(TensorType type, int cols) {
        return RowDecoder.VECTOR && cols % type.blockSize == 0
                && (type == TensorType.Q8_0 || type == TensorType.Q4_K && L == 16 || type == TensorType.Q6_K);
    }

    /**
     * Rows at byte offsets w0..w3 of {@code w} against x[xb..]; row j's accumulator goes to acc[j*L..].
     * {@code scales} (at least 64 floats) is scratch for decoded block scales.
     */
    static void run(TensorType type, MemorySegment w, long w0, long w1, long w2, long w3, int cols, float[] x, int xb, float[] acc,
                    float[] scales) {
        switch (type) {
            case Q8_0 -> q8_0(w, w0, w1, w2, w3, cols, x, xb, acc);
            case Q4_K -> q4_K(w, w0, w1, w2, w3, cols, x, xb, acc, scales);
            case Q6_K -> q6_K(w, w0, w1, w2, w3, cols, x, xb, acc);
            default -> throw new IllegalArgumentException("no decoding tile for " + type);
        }
    }

    private static void q8_0(MemorySegment w, long w0, long w1, long w2, long w3, int cols, float[] x, int xb, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int b = 0; b < cols / 32; b++) {
            long o = 34L * b;
            float d0 = Dequant.half(w, w0 + o), d1 = Dequant.half(w, w1 + o), d2 = Dequant.half(w, w2 + o), d3 = Dequant.half(w, w3 + o);
            for (int j = 0; j < 32; j += L) {
                FloatVector t = FloatVector.fromArray(F, x, xb + 32 * b + j);
                long q = o + 2 + j;
                a0 = ((FloatVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w0 + q, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d0).fma(t, a0);
                a1 = ((FloatVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w1 + q, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d1).fma(t, a1);
                a2 = ((FloatVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w2 + q, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d2).fma(t, a2);
                a3 = ((FloatVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w3 + q, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d3).fma(t, a3);
            }
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
    }

    /**
     * Q4_K (layout in {@link Dequant}): group g of 64 columns is the low nibbles of 32 bytes (sub-block 2g), then
     * their high nibbles (sub-block 2g + 1); each element is (nibble * (d * scale)) - (dmin * min), in float. Needs
     * L = 16: a group's bytes are two vectors per row, widened once for both nibbles. The sub-block scales and
     * mins of a super-block are decoded first into {@code scales} (64 floats).
     */
    private static void q4_K(MemorySegment w, long w0, long w1, long w2, long w3, int cols, float[] x, int xb, float[] acc,
                             float[] scales) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int b = 0; b < cols / 256; b++) {
            long o = 144L * b;
            scalesK4(w, w0 + o, scales, 0);
            scalesK4(w, w1 + o, scales, 16);
            scalesK4(w, w2 + o, scales, 32);
            scalesK4(w, w3 + o, scales, 48);
            for (int g = 0; g < 4; g++) {
                long q = o + 16 + 32L * g;
                IntVector p0 = (IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w0 + q, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector p1 = (IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w1 + q, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector p2 = (IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w2 + q, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector p3 = (IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w3 + q, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector r0 = (IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w0 + q + 16, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector r1 = (IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w1 + q + 16, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector r2 = (IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w2 + q + 16, LE).convertShape(VectorOperators.B2I, I, 0);
                IntVector r3 = (IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w3 + q + 16, LE).convertShape(VectorOperators.B2I, I, 0);
                int lo = 2 * g, hi = 2 * g + 1;
                int xg = xb + 256 * b + 64 * g;
                FloatVector t = FloatVector.fromArray(F, x, xg);
                a0 = p0.and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(scales[lo]).sub(scales[8 + lo]).fma(t, a0);
                a1 = p1.and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(scales[16 + lo]).sub(scales[24 + lo]).fma(t, a1);
                a2 = p2.and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(scales[32 + lo]).sub(scales[40 + lo]).fma(t, a2);
                a3 = p3.and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(scales[48 + lo]).sub(scales[56 + lo]).fma(t, a3);
                t = FloatVector.fromArray(F, x, xg + 16);
                a0 = r0.and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(scales[lo]).sub(scales[8 + lo]).fma(t, a0);
                a1 = r1.and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(scales[16 + lo]).sub(scales[24 + lo]).fma(t, a1);
                a2 = r2.and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(scales[32 + lo]).sub(scales[40 + lo]).fma(t, a2);
                a3 = r3.and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats().mul(scales[48 + lo]).sub(scales[56 + lo]).fma(t, a3);
                t = FloatVector.fromArray(F, x, xg + 32);
                a0 = p0.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                        .mul(scales[hi]).sub(scales[8 + hi]).fma(t, a0);
                a1 = p1.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                        .mul(scales[16 + hi]).sub(scales[24 + hi]).fma(t, a1);
                a2 = p2.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                        .mul(scales[32 + hi]).sub(scales[40 + hi]).fma(t, a2);
                a3 = p3.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                        .mul(scales[48 + hi]).sub(scales[56 + hi]).fma(t, a3);
                t = FloatVector.fromArray(F, x, xg + 48);
                a0 = r0.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                        .mul(scales[hi]).sub(scales[8 + hi]).fma(t, a0);
                a1 = r1.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                        .mul(scales[16 + hi]).sub(scales[24 + hi]).fma(t, a1);
                a2 = r2.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                        .mul(scales[32 + hi]).sub(scales[40 + hi]).fma(t, a2);
                a3 = r3.lanewise(VectorOperators.ASHR, 4).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                        .mul(scales[48 + hi]).sub(scales[56 + hi]).fma(t, a3);
            }
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
    }

    /**
     * The 8 sub-block steps d * scale and offsets dmin * min of the Q4_K super-block at {@code p} into
     * dst[off..off+8) and dst[off+8..off+16), computed as {@link RowDecoder} does.
     */
    private static void scalesK4(MemorySegment w, long p, float[] dst, int off) {
        float d = Dequant.half(w, p);
        float dmin = Dequant.half(w, p + 2);
        for (int j = 0; j < 8; j++) {
            dst[off + j] = d * Dequant.scaleK4(w, p + 4, j);
            dst[off + 8 + j] = dmin * Dequant.minK4(w, p + 4, j);
        }
    }

    /**
     * Q6_K (layout in {@link Dequant}): quarter k of each half's 128 columns takes the low (k < 2) or high nibbles of
     * ql[32 (k % 2) + l] and bits 2k, 2k + 1 of qh[l]; each element is (q - 32) * (d * scale), in float.
     */
    private static void q6_K(MemorySegment w, long w0, long w1, long w2, long w3, int cols, float[] x, int xb, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int b = 0; b < cols / 256; b++) {
            long o = 210L * b;
            float d0 = Dequant.half(w, w0 + o + 208), d1 = Dequant.half(w, w1 + o + 208);
            float d2 = Dequant.half(w, w2 + o + 208), d3 = Dequant.half(w, w3 + o + 208);
            for (int quarter = 0; quarter < 8; quarter++) {
                int h = quarter / 4, k = quarter % 4;
                long ql = o + 64L * h + 32 * (k % 2);
                long qh = o + 128 + 32L * h;
                long sc = o + 192 + 8L * h + 2 * k;
                int nibbleShift = 4 * (k / 2), highShift = 2 * k;
                for (int l = 0; l < 32; l += L) {
                    FloatVector t = FloatVector.fromArray(F, x, xb + 256 * b + 32 * quarter + l);
                    int is = l / 16;
                    a0 = ((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w0 + ql + l, LE).convertShape(VectorOperators.B2I, I, 0))
                            .lanewise(VectorOperators.ASHR, nibbleShift).and(0xF)
                            .or(((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w0 + qh + l, LE).convertShape(VectorOperators.B2I, I, 0))
                                    .lanewise(VectorOperators.ASHR, highShift).and(3).lanewise(VectorOperators.LSHL, 4))
                            .sub(32).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                            .mul(d0 * w.get(Dequant.BYTE, w0 + sc + is)).fma(t, a0);
                    a1 = ((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w1 + ql + l, LE).convertShape(VectorOperators.B2I, I, 0))
                            .lanewise(VectorOperators.ASHR, nibbleShift).and(0xF)
                            .or(((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w1 + qh + l, LE).convertShape(VectorOperators.B2I, I, 0))
                                    .lanewise(VectorOperators.ASHR, highShift).and(3).lanewise(VectorOperators.LSHL, 4))
                            .sub(32).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                            .mul(d1 * w.get(Dequant.BYTE, w1 + sc + is)).fma(t, a1);
                    a2 = ((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w2 + ql + l, LE).convertShape(VectorOperators.B2I, I, 0))
                            .lanewise(VectorOperators.ASHR, nibbleShift).and(0xF)
                            .or(((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w2 + qh + l, LE).convertShape(VectorOperators.B2I, I, 0))
                                    .lanewise(VectorOperators.ASHR, highShift).and(3).lanewise(VectorOperators.LSHL, 4))
                            .sub(32).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                            .mul(d2 * w.get(Dequant.BYTE, w2 + sc + is)).fma(t, a2);
                    a3 = ((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w3 + ql + l, LE).convertShape(VectorOperators.B2I, I, 0))
                            .lanewise(VectorOperators.ASHR, nibbleShift).and(0xF)
                            .or(((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w3 + qh + l, LE).convertShape(VectorOperators.B2I, I, 0))
                                    .lanewise(VectorOperators.ASHR, highShift).and(3).lanewise(VectorOperators.LSHL, 4))
                            .sub(32).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                            .mul(d3 * w.get(Dequant.BYTE, w3 + sc + is)).fma(t, a3);
                }
            }
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
    }
}
