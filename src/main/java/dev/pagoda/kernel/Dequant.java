package dev.pagoda.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reference decoding of one weight row to float32, in GGML's block layouts (little-endian).
 * Used by tests as the ground truth for the matmul kernels, for embedding lookup, and for the K-quants in
 * {@link MatMul}. Q8_0 and Q4_0 values are computed as {@code d * q} in float, exactly as the vector decoder does.
 */
public final class Dequant {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Dequant() {
    }

    /** Writes row {@code row} of {@code w} ({@code w.cols()} floats) to {@code dst[off..]}. */
    public static void row(WeightMatrix w, int row, float[] dst, int off) {
        if (row < 0 || row >= w.rows()) {
            throw new IndexOutOfBoundsException(w.name() + ": row " + row + " of " + w.rows());
        }
        MemorySegment s = w.data();
        long base = row * w.rowBytes();
        int n = w.cols();
        switch (w.type()) {
            case F32 -> MemorySegment.copy(s, FLOAT, base, dst, off, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = Float.float16ToFloat(s.get(SHORT, base + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = bf16ToFloat(s.get(SHORT, base + 2L * i));
                }
            }
            case Q8_0 -> q8_0(s, base, n, dst, off);
            case Q4_0 -> q4_0(s, base, n, dst, off);
            case Q5_0 -> q5_0(s, base, n, dst, off);
            case Q4_K -> q4_K(s, base, n, dst, off, false);
            case Q5_K -> q4_K(s, base, n, dst, off, true);
            case Q6_K -> q6_K(s, base, n, dst, off);
        }
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    static float half(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT, off));
    }

    /** Block: f16 d, 32 x int8 q; x = d * q. */
    private static void q8_0(MemorySegment s, long base, int n, float[] dst, int off) {
        for (int b = 0; b < n / 32; b++) {
            long p = base + 34L * b;
            float d = half(s, p);
            for (int j = 0; j < 32; j++) {
                dst[off + 32 * b + j] = d * s.get(BYTE, p + 2 + j);
            }
        }
    }

    /** Block: f16 d, 16 bytes; element j < 16 is the low nibble of byte j, element j + 16 its high nibble; x = d * (q - 8). */
    private static void q4_0(MemorySegment s, long base, int n, float[] dst, int off) {
        for (int b = 0; b < n / 32; b++) {
            long p = base + 18L * b;
            float d = half(s, p);
            for (int j = 0; j < 16; j++) {
                int q = s.get(BYTE, p + 2 + j) & 0xFF;
                dst[off + 32 * b + j] = d * ((q & 0xF) - 8);
                dst[off + 32 * b + j + 16] = d * ((q >>> 4) - 8);
            }
        }
    }

    /**
     * Block: f16 d, 32 high bits (little-endian; bit j belongs to element j), 16 bytes of nibbles laid out as in
     * Q4_0; x = d * (q - 16) with q = nibble | high bit << 4.
     */
    private static void q5_0(MemorySegment s, long base, int n, float[] dst, int off) {
        for (int b = 0; b < n / 32; b++) {
            long p = base + 22L * b;
            float d = half(s, p);
            int qh = s.get(INT, p + 2);
            for (int j = 0; j < 16; j++) {
                int q = u8(s, p + 6 + j);
                dst[off + 32 * b + j] = d * (((q & 0xF) | ((qh >>> j) & 1) << 4) - 16);
                dst[off + 32 * b + j + 16] = d * (((q >>> 4) | ((qh >>> (j + 16)) & 1) << 4) - 16);
            }
        }
    }

    /**
     * Super-block of 256: f16 d, f16 dmin, 12 bytes of 6-bit (scale, min) pairs for 8 sub-blocks of 32,
     * then (Q5_K only) 32 bytes of fifth bits qh, then 128 bytes of nibbles. Each 32-byte group g of nibbles holds
     * two sub-blocks: low nibbles, then high nibbles; their fifth bits are bits 2g and 2g+1 of qh[l].
     * x = d * scale * q - dmin * min.
     */
    private static void q4_K(MemorySegment s, long base, int n, float[] dst, int off, boolean fifthBits) {
        int blockBytes = fifthBits ? 176 : 144;
        for (int b = 0; b < n / 256; b++) {
            long p = base + (long) blockBytes * b;
            float d = half(s, p);
            float dmin = half(s, p + 2);
            long scales = p + 4;
            long qs = p + (fifthBits ? 48 : 16);
            int y = off + 256 * b;
            for (int g = 0; g < 4; g++) {
                float d1 = d * scaleK4(s, scales, 2 * g);
                float m1 = dmin * minK4(s, scales, 2 * g);
                float d2 = d * scaleK4(s, scales, 2 * g + 1);
                float m2 = dmin * minK4(s, scales, 2 * g + 1);
                for (int l = 0; l < 32; l++) {
                    int q = u8(s, qs + 32L * g + l);
                    int h = fifthBits ? u8(s, p + 16 + l) >>> (2 * g) : 0;
                    dst[y + 64 * g + l] = d1 * ((q & 0xF) | (h & 1) << 4) - m1;
                    dst[y + 64 * g + 32 + l] = d2 * ((q >>> 4) | (h & 2) << 3) - m2;
                }
            }
        }
    }

    /** 6-bit scale of sub-block j: j < 4 in the low 6 bits of byte j, else a low nibble of byte j+4 and 2 high bits of byte j-4. */
    static int scaleK4(MemorySegment s, long scales, int j) {
        if (j < 4) {
            return u8(s, scales + j) & 63;
        }
        return (u8(s, scales + j + 4) & 0xF) | ((u8(s, scales + j - 4) >>> 6) << 4);
    }

    static int minK4(MemorySegment s, long scales, int j) {
        if (j < 4) {
            return u8(s, scales + j + 4) & 63;
        }
        return (u8(s, scales + j + 4) >>> 4) | ((u8(s, scales + j) >>> 6) << 4);
    }

    /**
     * Super-block of 256: 128 bytes low 4 bits (ql), 64 bytes high 2 bits (qh), 16 int8 scales, f16 d.
     * x = d * scale * (q - 32), q 6-bit. Each half of 128 elements uses 64 ql bytes, 32 qh bytes and 8 scales.
     */
    private static void q6_K(MemorySegment s, long base, int n, float[] dst, int off) {
        for (int b = 0; b < n / 256; b++) {
            long p = base + 210L * b;
            float d = half(s, p + 208);
            for (int h = 0; h < 2; h++) {
                long ql = p + 64L * h;
                long qh = p + 128 + 32L * h;
                long sc = p + 192 + 8L * h;
                int y = off + 256 * b + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int lo = u8(s, ql + l);
                    int lo32 = u8(s, ql + l + 32);
                    int hi = u8(s, qh + l);
                    int q1 = ((lo & 0xF) | ((hi & 3) << 4)) - 32;
                    int q2 = ((lo32 & 0xF) | (((hi >>> 2) & 3) << 4)) - 32;
                    int q3 = ((lo >>> 4) | (((hi >>> 4) & 3) << 4)) - 32;
                    int q4 = ((lo32 >>> 4) | (((hi >>> 6) & 3) << 4)) - 32;
                    dst[y + l] = d * s.get(BYTE, sc + is) * q1;
                    dst[y + l + 32] = d * s.get(BYTE, sc + is + 2) * q2;
                    dst[y + l + 64] = d * s.get(BYTE, sc + is + 4) * q3;
                    dst[y + l + 96] = d * s.get(BYTE, sc + is + 6) * q4;
                }
            }
        }
    }

    private static int u8(MemorySegment s, long off) {
        return s.get(BYTE, off) & 0xFF;
    }
}
