package dev.pagoda.kernel;

import java.lang.foreign.MemorySegment;

/**
 * Encodes float32 values into F16, BF16, Q8_0 or Q4_0 with GGML's reference rounding, so files written here
 * decode with any GGML reader. F16 and BF16 round to nearest even. Q8_0: d = amax / 127, q = round(x / d)
 * (half away from zero). Q4_0: d = (value of largest magnitude) / -8, q = min(15, (int) (x / d + 8.5)).
 * The stored scale is f16(d); the quantizer divides by the unrounded d, as GGML's reference does.
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

    /** C's roundf; computed in double so that 0.49999997f + 0.5 does not round up to 1. */
    private static int roundHalfAway(float v) {
        return (int) (v + Math.copySign(0.5, v));
    }
}
