package dev.pagoda.kernel;

import java.lang.foreign.MemorySegment;

/**
 * Encodes float32 values into F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K, so files written here decode with any GGML
 * reader. F16 and BF16 round to nearest even. Q8_0: d = amax / 127, q = round(x / d) (half away from zero).
 * Q4_0: d = (value of largest magnitude) / -8, q = min(15, (int) (x / d + 8.5)). For these the stored scale is
 * f16(d) and the quantizer divides by the unrounded d, as GGML's reference does.
 *
 * <p>The K-quants use a plain fit, not llama.cpp's iterative search for the best scales: every sub-block's range
 * is covered by rounding its 6- or 8-bit scale up (and Q4_K's min up), so an element is off by at most one
 * quantization step of its sub-block (half a step plus the scale's rounding); enough for synthetic models.
 */
public final class Quantize {
    private Quantize() {
    }

    /** Encodes {@code src[srcOff .. srcOff+n)} into {@code dst} at byte {@code dstOff}; n must fill whole blocks. */
    public static void encode(TensorType type, float[] src, int srcOff, int n, MemorySegment dst, long dstOff) {
        long need = type.bytesFor(n);
        if (dstOff < 0 || dstOff + need > dst.byteSize()) {
            throw new IndexOutOfBoundsException("need " + need + " bytes at " + dstOff + " of " + dst.byteSize());
        }
        switch (type) {
            case F32 -> MemorySegment.copy(src, srcOff, dst, Dequant.FLOAT, dstOff, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(Dequant.SHORT, dstOff + 2L * i, Float.floatToFloat16(src[srcOff + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(Dequant.SHORT, dstOff + 2L * i, floatToBf16(src[srcOff + i]));
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    q8_0Block(src, srcOff + 32 * b, dst, dstOff + 34L * b);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    q4_0Block(src, srcOff + 32 * b, dst, dstOff + 18L * b);
                }
            }
            case Q4_K -> {
                for (int b = 0; b < n / 256; b++) {
                    q4_KBlock(src, srcOff + 256 * b, dst, dstOff + 144L * b, false);
                }
            }
            case Q5_K -> {
                for (int b = 0; b < n / 256; b++) {
                    q4_KBlock(src, srcOff + 256 * b, dst, dstOff + 176L * b, true);
                }
            }
            case Q6_K -> {
                for (int b = 0; b < n / 256; b++) {
                    q6_KBlock(src, srcOff + 256 * b, dst, dstOff + 210L * b);
                }
            }
            default -> throw new IllegalArgumentException("no encoder for " + type);
        }
    }

    /** Encodes all of {@code src} into a new byte array (little-endian, GGML layout). */
    public static byte[] encode(TensorType type, float[] src) {
        byte[] out = new byte[Math.toIntExact(type.bytesFor(src.length))];
        encode(type, src, 0, src.length, MemorySegment.ofArray(out), 0);
        return out;
    }

    /** Round to nearest even; NaN stays a quiet NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    private static void q8_0Block(float[] x, int o, MemorySegment dst, long p) {
        float amax = 0;
        for (int j = 0; j < 32; j++) {
            amax = Math.max(amax, Math.abs(x[o + j]));
        }
        float d = amax / 127;
        float id = d != 0 ? 1 / d : 0;
        dst.set(Dequant.SHORT, p, Float.floatToFloat16(d));
        for (int j = 0; j < 32; j++) {
            dst.set(Dequant.BYTE, p + 2 + j, (byte) roundHalfAway(x[o + j] * id));
        }
    }

    private static void q4_0Block(float[] x, int o, MemorySegment dst, long p) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            float v = x[o + j];
            if (amax < Math.abs(v)) {
                amax = Math.abs(v);
                max = v;
            }
        }
        float d = max / -8;
        float id = d != 0 ? 1 / d : 0;
        dst.set(Dequant.SHORT, p, Float.floatToFloat16(d));
        for (int j = 0; j < 16; j++) {
            int lo = Math.min(15, (int) (x[o + j] * id + 8.5f));
            int hi = Math.min(15, (int) (x[o + 16 + j] * id + 8.5f));
            dst.set(Dequant.BYTE, p + 2 + j, (byte) (lo | hi << 4));
        }
    }

    /**
     * Q4_K, or Q5_K with {@code fifthBits} (layouts in {@link Dequant}): sub-block j of 32 spans [-min_j, -min_j +
     * top scale_j] (top = 15, or 31 with a fifth bit) with min_j >= 0; 6-bit scale and min codes relative to the
     * super-block's f16 d = max scale / 63 and dmin = max min / 63.
     */
    private static void q4_KBlock(float[] x, int o, MemorySegment dst, long p, boolean fifthBits) {
        int top = fifthBits ? 31 : 15;
        float[] lo = new float[8];
        float[] range = new float[8];
        float maxMin = 0;
        float maxScale = 0;
        for (int j = 0; j < 8; j++) {
            float mn = 0;
            float mx = 0;
            for (int i = 0; i < 32; i++) {
                mn = Math.min(mn, x[o + 32 * j + i]);
                mx = Math.max(mx, x[o + 32 * j + i]);
            }
            lo[j] = -mn;
            range[j] = mx - mn;
            maxMin = Math.max(maxMin, -mn);
            maxScale = Math.max(maxScale, (mx - mn) / top);
        }
        // a min code rounded up can widen a sub-block's span by one dmin: the scale covers that too
        short dBits = Float.floatToFloat16(maxScale / 63 * (1 + 1f / 63));
        short dminBits = Float.floatToFloat16(maxMin / 63);
        float d = Float.float16ToFloat(dBits);
        float dmin = Float.float16ToFloat(dminBits);
        int[] sc = new int[8];
        int[] m = new int[8];
        for (int j = 0; j < 8; j++) {
            m[j] = dmin > 0 ? Math.min(63, (int) Math.ceil(lo[j] / dmin)) : 0;
            float span = range[j] - lo[j] + dmin * m[j];  // from -dmin*m up to the sub-block's max
            sc[j] = d > 0 ? Math.min(63, (int) Math.ceil(span / top / d)) : 0;
        }
        dst.set(Dequant.SHORT, p, dBits);
        dst.set(Dequant.SHORT, p + 2, dminBits);
        for (int j = 0; j < 4; j++) {
            dst.set(Dequant.BYTE, p + 4 + j, (byte) (sc[j] | (sc[j + 4] >> 4) << 6));
            dst.set(Dequant.BYTE, p + 8 + j, (byte) (m[j] | (m[j + 4] >> 4) << 6));
            dst.set(Dequant.BYTE, p + 12 + j, (byte) ((sc[j + 4] & 0xF) | (m[j + 4] & 0xF) << 4));
        }
        long qs = p + (fifthBits ? 48 : 16);
        if (fifthBits) {
            dst.asSlice(p + 16, 32).fill((byte) 0);
        }
        for (int g = 0; g < 4; g++) {
            for (int l = 0; l < 32; l++) {
                int q0 = q4_K(x[o + 64 * g + l], d * sc[2 * g], dmin * m[2 * g], top);
                int q1 = q4_K(x[o + 64 * g + 32 + l], d * sc[2 * g + 1], dmin * m[2 * g + 1], top);
                dst.set(Dequant.BYTE, qs + 32L * g + l, (byte) ((q0 & 0xF) | (q1 & 0xF) << 4));
                if (fifthBits) {  // byte l of qh holds the fifth bits of weights 64g + l (bit 2g) and 64g + 32 + l (bit 2g+1)
                    int h = dst.get(Dequant.BYTE, p + 16 + l) | (q0 >> 4) << (2 * g) | (q1 >> 4) << (2 * g + 1);
                    dst.set(Dequant.BYTE, p + 16 + l, (byte) h);
                }
            }
        }
    }

    private static int q4_K(float v, float step, float min, int top) {
        return step > 0 ? Math.max(0, Math.min(top, Math.round((v + min) / step))) : 0;
    }

    /**
     * Q6_K (layout in {@link Dequant}): sub-block j of 16 has step d * scale_j with an int8 scale code, rounded up
     * so that its largest magnitude stays within q = +-31 of the 6-bit range [-32, 31].
     */
    private static void q6_KBlock(float[] x, int o, MemorySegment dst, long p) {
        float[] step = new float[16];
        float maxStep = 0;
        for (int j = 0; j < 16; j++) {
            float amax = 0;
            for (int i = 0; i < 16; i++) {
                amax = Math.max(amax, Math.abs(x[o + 16 * j + i]));
            }
            step[j] = amax / 31;
            maxStep = Math.max(maxStep, step[j]);
        }
        short dBits = Float.floatToFloat16(maxStep / 127 * (1 + 1f / 127));
        float d = Float.float16ToFloat(dBits);
        dst.set(Dequant.SHORT, p + 208, dBits);
        for (int h = 0; h < 2; h++) {
            int[] q = new int[128];
            for (int e = 0; e < 128; e++) {
                int j = 8 * h + e / 16;
                int sc = d > 0 ? Math.min(127, (int) Math.ceil(step[j] / d)) : 0;
                if (e % 16 == 0) {
                    dst.set(Dequant.BYTE, p + 192 + j, (byte) sc);
                }
                float s = d * sc;
                q[e] = (s > 0 ? Math.max(-32, Math.min(31, Math.round(x[o + 128 * h + e] / s))) : 0) + 32;
            }
            for (int l = 0; l < 32; l++) {
                dst.set(Dequant.BYTE, p + 64L * h + l, (byte) ((q[l] & 0xF) | (q[l + 64] & 0xF) << 4));
                dst.set(Dequant.BYTE, p + 64L * h + l + 32, (byte) ((q[l + 32] & 0xF) | (q[l + 96] & 0xF) << 4));
                dst.set(Dequant.BYTE, p + 128 + 32L * h + l,
                        (byte) ((q[l] >> 4) | (q[l + 32] >> 4) << 2 | (q[l + 64] >> 4) << 4 | (q[l + 96] >> 4) << 6));
            }
        }
    }

    /** C's roundf; computed in double so that 0.49999997f + 0.5 does not round up to 1. */
    private static int roundHalfAway(float v) {
        return (int) (v + Math.copySign(0.5, v));
    }
}
