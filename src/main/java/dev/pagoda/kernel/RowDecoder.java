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
 * Vectorized decoding of one weight row into float32 scratch, bit-identical to {@link Dequant#row}
 * (the matmul tests rely on that): the same float operations per element, in the same order. F16 (whose loop in
 * {@link Dequant} C2 vectorizes into the hardware's conversion) and Q5_0 go through {@link Dequant}.
 */
final class RowDecoder {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** L shorts / L bytes, widened to L ints / floats. Vector decoding needs L >= 8 (64-bit byte vectors). */
    static final boolean VECTOR = L >= 8;
    private static final VectorSpecies<Short> S = VECTOR ? VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16)) : null;
    static final VectorSpecies<Byte> B = VECTOR ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

    private RowDecoder() {
    }

    /**
     * Decodes row {@code row} of {@code w} to floats at {@code dst[dstOff..]}; {@code tmp} (at least cols floats) is
     * used by the scalar fallback.
     */
    static void decode(WeightMatrix w, int row, MemorySegment dst, long dstOff, float[] tmp) {
        MemorySegment s = w.data();
        long base = row * w.rowBytes();
        int n = w.cols();
        if (!VECTOR || n % L != 0) {
            Dequant.row(w, row, tmp, 0);
            MemorySegment.copy(tmp, 0, dst, Dequant.FLOAT, dstOff, n);
            return;
        }
        switch (w.type()) {
            case F32 -> MemorySegment.copy(s, base, dst, dstOff, 4L * n);
            case BF16 -> bf16Row(s, base, n, dst, dstOff);
            case Q8_0 -> q8_0Row(s, base, n, dst, dstOff);
            case Q4_0 -> q4_0Row(s, base, n, dst, dstOff);
            case Q4_K -> q4_KRow(s, base, n, dst, dstOff, false);
            case Q5_K -> q4_KRow(s, base, n, dst, dstOff, true);
            case Q6_K -> q6_KRow(s, base, n, dst, dstOff);
            default -> {
                Dequant.row(w, row, tmp, 0);
                MemorySegment.copy(tmp, 0, dst, Dequant.FLOAT, dstOff, n);
            }
        }
    }

    // One small method per type: C2 gives up intrinsifying Vector API calls inside very large inlined bodies.
    // No helper takes or returns a vector: once such a helper is compiled on its own (boxing its vectors, which
    // makes it larger than C2's InlineSmallCode), C2 no longer inlines it, and every caller compiled afterwards
    // boxes a vector per call, 5-20x slower depending on which caller got hot first.

    private static void bf16Row(MemorySegment s, long base, int n, MemorySegment dst, long dstOff) {
        for (int i = 0; i < n; i += L) {
            ((IntVector) ShortVector.fromMemorySegment(S, s, base + 2L * i, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoMemorySegment(dst, dstOff + 4L * i, LE);
        }
    }

    private static void q8_0Row(MemorySegment s, long base, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / 32; b++) {
            long p = base + 34L * b;
            float d = Dequant.half(s, p);
            for (int j = 0; j < 32; j += L) {
                ((FloatVector) ByteVector.fromMemorySegment(B, s, p + 2 + j, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(d).intoMemorySegment(dst, dstOff + 4L * (32 * b + j), LE);
            }
        }
    }

    private static void q4_0Row(MemorySegment s, long base, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / 32; b++) {
            long p = base + 18L * b;
            float d = Dequant.half(s, p);
            ByteVector packed = ByteVector.fromMemorySegment(B16, s, p + 2, LE);
            ByteVector lo = packed.and((byte) 0xF).sub((byte) 8);
            ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
            long y = dstOff + 4L * 32 * b;
            // constant parts: convertShape is only intrinsified when its part number is a constant
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoMemorySegment(dst, y, LE);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoMemorySegment(dst, y + 64, LE);
            if (L == 8) {
                ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 1)).mul(d).intoMemorySegment(dst, y + 32, LE);
                ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 1)).mul(d).intoMemorySegment(dst, y + 96, LE);
            }
        }
    }

    /** Q4_K (layout in {@link Dequant}). */
    /** Q4_K, or Q5_K with {@code fifthBits} (layouts in {@link Dequant}). */
    private static void q4_KRow(MemorySegment s, long base, int n, MemorySegment dst, long dstOff, boolean fifthBits) {
        for (int b = 0; b < n / 256; b++) {
            long p = base + (fifthBits ? 176L : 144L) * b;
            float d = Dequant.half(s, p);
            float dmin = Dequant.half(s, p + 2);
            long qs = p + (fifthBits ? 48 : 16);
            for (int g = 0; g < 4; g++) {
                float d1 = d * Dequant.scaleK4(s, p + 4, 2 * g);
                float m1 = dmin * Dequant.minK4(s, p + 4, 2 * g);
                float d2 = d * Dequant.scaleK4(s, p + 4, 2 * g + 1);
                float m2 = dmin * Dequant.minK4(s, p + 4, 2 * g + 1);
                long y = dstOff + 4L * (256 * b + 64 * g);
                for (int l = 0; l < 32; l += L) {
                    ByteVector packed = ByteVector.fromMemorySegment(B, s, qs + 32L * g + l, LE);
                    ByteVector lo = packed.and((byte) 0xF);
                    ByteVector hi = packed.lanewise(VectorOperators.LSHR, 4);
                    if (fifthBits) {  // bits 2g and 2g+1 of qh byte l: the fifth bits of weights 64g + l and 64g + 32 + l
                        ByteVector h = ByteVector.fromMemorySegment(B, s, p + 16 + l, LE).lanewise(VectorOperators.LSHR, 2 * g);
                        lo = lo.or(h.and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                        hi = hi.or(h.and((byte) 2).lanewise(VectorOperators.LSHL, 3));
                    }
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d1).sub(m1).intoMemorySegment(dst, y + 4L * l, LE);
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d2).sub(m2).intoMemorySegment(dst, y + 4L * (32 + l), LE);
                }
            }
        }
    }

    /** Q6_K (layout in {@link Dequant}); a chunk of L <= 16 elements never straddles a 16-element scale. */
    private static void q6_KRow(MemorySegment s, long base, int n, MemorySegment dst, long dstOff) {
        for (int b = 0; b < n / 256; b++) {
            long p = base + 210L * b;
            float d = Dequant.half(s, p + 208);
            for (int h = 0; h < 2; h++) {
                long ql = p + 64L * h;
                long qh = p + 128 + 32L * h;
                long sc = p + 192 + 8L * h;
                long y = dstOff + 4L * (256 * b + 128 * h);
                for (int l = 0; l < 32; l += L) {
                    int is = l / 16;
                    ByteVector lo = ByteVector.fromMemorySegment(B, s, ql + l, LE);
                    ByteVector lo32 = ByteVector.fromMemorySegment(B, s, ql + l + 32, LE);
                    ByteVector hi = ByteVector.fromMemorySegment(B, s, qh + l, LE);
                    ByteVector h2 = hi.lanewise(VectorOperators.LSHR, 2);
                    ByteVector h4 = hi.lanewise(VectorOperators.LSHR, 4);
                    ByteVector h6 = hi.lanewise(VectorOperators.LSHR, 6);
                    ByteVector q1 = lo.and((byte) 0xF).or(hi.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = lo32.and((byte) 0xF).or(h2.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q3 = lo.lanewise(VectorOperators.LSHR, 4).or(h4.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q4 = lo32.lanewise(VectorOperators.LSHR, 4).or(h6.lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 0)).mul(d * s.get(Dequant.BYTE, sc + is))
                            .intoMemorySegment(dst, y + 4L * l, LE);
                    ((FloatVector) q2.convertShape(VectorOperators.B2F, F, 0)).mul(d * s.get(Dequant.BYTE, sc + is + 2))
                            .intoMemorySegment(dst, y + 4L * (l + 32), LE);
                    ((FloatVector) q3.convertShape(VectorOperators.B2F, F, 0)).mul(d * s.get(Dequant.BYTE, sc + is + 4))
                            .intoMemorySegment(dst, y + 4L * (l + 64), LE);
                    ((FloatVector) q4.convertShape(VectorOperators.B2F, F, 0)).mul(d * s.get(Dequant.BYTE, sc + is + 6))
                            .intoMemorySegment(dst, y + 4L * (l + 96), LE);
                }
            }
        }
    }
}
