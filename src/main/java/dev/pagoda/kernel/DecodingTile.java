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
                && (type == TensorType.Q8_0 || type == TensorType.Q4_K || type == TensorType.Q6_K);
    }

    /** Rows at byte offsets w0..w3 of {@code w} against x[xb..]; row j's accumulator goes to acc[j*L..]. */
    static void run(TensorType type, MemorySegment w, long w0, long w1, long w2, long w3, int cols, float[] x, int xb, float[] acc) {
        switch (type) {
            case Q8_0 -> q8_0(w, w0, w1, w2, w3, cols, x, xb, acc);
            case Q4_K -> q4_K(w, w0, w1, w2, w3, cols, x, xb, acc);
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
     * their high nibbles (sub-block 2g + 1); each element is (nibble * (d * scale)) - (dmin * min), in float.
     */
    private static void q4_K(MemorySegment w, long w0, long w1, long w2, long w3, int cols, float[] x, int xb, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int b = 0; b < cols / 256; b++) {
            long o = 144L * b;
            float d0 = Dequant.half(w, w0 + o), d1 = Dequant.half(w, w1 + o), d2 = Dequant.half(w, w2 + o), d3 = Dequant.half(w, w3 + o);
            float n0 = Dequant.half(w, w0 + o + 2), n1 = Dequant.half(w, w1 + o + 2);
            float n2 = Dequant.half(w, w2 + o + 2), n3 = Dequant.half(w, w3 + o + 2);
            for (int sub = 0; sub < 8; sub++) {
                float s0 = d0 * Dequant.scaleK4(w, w0 + o + 4, sub), m0 = n0 * Dequant.minK4(w, w0 + o + 4, sub);
                float s1 = d1 * Dequant.scaleK4(w, w1 + o + 4, sub), m1 = n1 * Dequant.minK4(w, w1 + o + 4, sub);
                float s2 = d2 * Dequant.scaleK4(w, w2 + o + 4, sub), m2 = n2 * Dequant.minK4(w, w2 + o + 4, sub);
                float s3 = d3 * Dequant.scaleK4(w, w3 + o + 4, sub), m3 = n3 * Dequant.minK4(w, w3 + o + 4, sub);
                long q = o + 16 + 32L * (sub / 2);
                int shift = 4 * (sub % 2);
                for (int l = 0; l < 32; l += L) {
                    FloatVector t = FloatVector.fromArray(F, x, xb + 256 * b + 32 * sub + l);
                    a0 = ((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w0 + q + l, LE).convertShape(VectorOperators.B2I, I, 0))
                            .lanewise(VectorOperators.ASHR, shift).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                            .mul(s0).sub(m0).fma(t, a0);
                    a1 = ((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w1 + q + l, LE).convertShape(VectorOperators.B2I, I, 0))
                            .lanewise(VectorOperators.ASHR, shift).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                            .mul(s1).sub(m1).fma(t, a1);
                    a2 = ((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w2 + q + l, LE).convertShape(VectorOperators.B2I, I, 0))
                            .lanewise(VectorOperators.ASHR, shift).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                            .mul(s2).sub(m2).fma(t, a2);
                    a3 = ((IntVector) ByteVector.fromMemorySegment(RowDecoder.B, w, w3 + q + l, LE).convertShape(VectorOperators.B2I, I, 0))
                            .lanewise(VectorOperators.ASHR, shift).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
                            .mul(s3).sub(m3).fma(t, a3);
                }
            }
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
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
