package dev.pagoda.kv;

import dev.pagoda.kernel.Dequant;
import dev.pagoda.kernel.Quantize;
import dev.pagoda.PagodaException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * Element type of the KV cache. Rows are stored converted to this type and read back as float by the
 * attention kernel; f16 and bf16 halve the memory of f32. Native byte order (the memory never leaves the process).
 */
public enum KvDtype {
    F32(4), F16(2), BF16(2);

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT;

    private final int bytes;

    KvDtype(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** Parses {@code f32}, {@code f16}, {@code bf16} (case-insensitive). */
    public static KvDtype parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "f32", "float32", "fp32" -> F32;
            case "f16", "float16", "fp16", "half" -> F16;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new PagodaException("unknown KV cache dtype '" + name + "': expected f32, f16 or bf16");
        };
    }

    /** Stores {@code n} floats from {@code src[off..]} at byte offset {@code at}, converting to this type. */
    public void store(float[] src, int off, MemorySegment dst, long at, int n) {
        if (this == F32) {
            MemorySegment.copy(src, off, dst, FLOAT, at, n);
        } else {
            storeStrided(src, off, dst, at, bytes, n);
        }
    }

    /**
     * Stores {@code n} floats from {@code src[off..]} at byte offsets {@code at}, {@code at + stride}, ... (a row
     * stored transposed), converting to this type: one plain store each, where a bulk copy per element cost ~10x.
     */
    public void storeStrided(float[] src, int off, MemorySegment dst, long at, long stride, int n) {
        switch (this) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(FLOAT, at + i * stride, src[off + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(SHORT, at + i * stride, Float.floatToFloat16(src[off + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst.set(SHORT, at + i * stride, Quantize.floatToBf16(src[off + i]));
                }
            }
        }
    }

    /** Loads {@code n} elements at byte offset {@code at} into {@code dst[off..]} as floats. */
    public void load(MemorySegment src, long at, float[] dst, int off, int n) {
        switch (this) {
            case F32 -> MemorySegment.copy(src, FLOAT, at, dst, off, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = Float.float16ToFloat(src.get(SHORT, at + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = Dequant.bf16ToFloat(src.get(SHORT, at + 2L * i));
                }
            }
        }
    }
}
