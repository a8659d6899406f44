package dev.pagoda.format.gguf;

import dev.pagoda.PagodaException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A bounds-checked little-endian reader over the mapped GGUF file. Every read checks the remaining bytes
 * first, so a truncated or corrupt file ends in a one-line {@link PagodaException}, never an
 * IndexOutOfBoundsException; every count is checked against the bytes left before anything is allocated.
 */
final class GgufCursor {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** GGUF allows arrays of arrays; a real file nests one or two levels, so deeper means corruption. */
    private static final int MAX_NESTING = 8;

    private final MemorySegment file;
    private final String fileName;
    private long pos;
    /** Reused buffer for decoding strings (a vocabulary holds 10^5 of them). */
    private byte[] scratch = new byte[256];
    /** What is being read, for error messages ("metadata key 'x'", "tensor info 3"). */
    private String context = "header";

    GgufCursor(MemorySegment file, String fileName) {
        this.file = file;
        this.fileName = fileName;
    }

    long position() {
        return pos;
    }

    long remaining() {
        return file.byteSize() - pos;
    }

    void context(String what) {
        context = what;
    }

    PagodaException error(String what) {
        return new PagodaException(fileName + ": " + what);
    }

    private long take(long n) {
        if (n < 0 || n > remaining()) {
            throw error("truncated in " + context + " (needs " + n + " bytes at offset " + pos + ", file has " + file.byteSize() + ")");
        }
        long at = pos;
        pos += n;
        return at;
    }

    int u8() {
        return file.get(ValueLayout.JAVA_BYTE, take(1)) & 0xFF;
    }

    int i8() {
        return file.get(ValueLayout.JAVA_BYTE, take(1));
    }

    int u16() {
        return file.get(U16, take(2)) & 0xFFFF;
    }

    int i16() {
        return file.get(U16, take(2));
    }

    int i32() {
        return file.get(U32, take(4));
    }

    long u32() {
        return Integer.toUnsignedLong(i32());
    }

    long i64() {
        return file.get(U64, take(8));
    }

    float f32() {
        return file.get(F32, take(4));
    }

    double f64() {
        return file.get(F64, take(8));
    }

    boolean bool() {
        int b = u8();
        if (b > 1) {
            throw error("bool value " + b + " in " + context + " at offset " + (pos - 1) + " (must be 0 or 1)");
        }
        return b == 1;
    }

    String string() {
        long len = i64();
        if (len < 0 || len > remaining()) {
            throw error("string length " + Long.toUnsignedString(len) + " in " + context + " at offset " + (pos - 8)
                    + " exceeds the " + remaining() + " bytes left in the file");
        }
        int n = (int) Math.min(len, Integer.MAX_VALUE - 8);
        if (n != len) {
            throw error("string length " + len + " in " + context + " is too large");
        }
        if (scratch.length < n) {
            scratch = new byte[Math.max(n, scratch.length * 2)];
        }
        MemorySegment.copy(file, ValueLayout.JAVA_BYTE, take(n), scratch, 0, n);
        return new String(scratch, 0, n, StandardCharsets.UTF_8);
    }

    /** A count of items that each occupy at least {@code minItemBytes}; rejects counts the file cannot hold. */
    long count(String what, int minItemBytes) {
        long at = pos;
        long n = i64();
        if (n < 0 || n > remaining() / minItemBytes) {
            throw error(what + " " + Long.toUnsignedString(n) + " at offset " + at + " is impossible: only "
                    + remaining() + " bytes left in the file");
        }
        return n;
    }

    GgufValueType valueType() {
        long at = pos;
        int id = i32();
        GgufValueType t = GgufValueType.fromId(id);
        if (t == null) {
            throw error("unknown metadata value type " + Integer.toUnsignedString(id) + " in " + context + " at offset " + at);
        }
        return t;
    }

    /** One metadata value of the given type, in the Java representation documented on {@link GgufValueType}. */
    Object value(GgufValueType type) {
        return value(type, 0);
    }

    private Object value(GgufValueType type, int depth) {
        if (type.fitsInt()) {
            return intValue(type);
        }
        return switch (type) {
            case UINT32 -> u32();
            case FLOAT32 -> f32();
            case BOOL -> bool();
            case STRING -> string();
            case UINT64, INT64 -> i64();
            case FLOAT64 -> f64();
            case ARRAY -> array(depth);
            default -> throw new AssertionError(type);
        };
    }

    private int intValue(GgufValueType type) {
        return switch (type) {
            case UINT8 -> u8();
            case INT8 -> i8();
            case UINT16 -> u16();
            case INT16 -> i16();
            case INT32 -> i32();
            default -> throw new AssertionError(type);
        };
    }

    private Object array(int depth) {
        if (depth >= MAX_NESTING) {
            throw error("arrays nested deeper than " + MAX_NESTING + " levels in " + context);
        }
        GgufValueType elem = valueType();
        long count = count("array length", elem.minSize());
        if (count > Integer.MAX_VALUE - 8) {
            throw error("array length " + count + " in " + context + " is too large");
        }
        // count() bounds n by the bytes left, so each allocation below is at most the file's size.
        int n = (int) count;
        if (elem == GgufValueType.INT32) {
            int[] a = new int[n];
            MemorySegment.copy(file, U32, take(4L * n), a, 0, n);
            return a;
        }
        if (elem.fitsInt()) {
            int[] a = new int[n];
            for (int i = 0; i < n; i++) {
                a[i] = intValue(elem);
            }
            return a;
        }
        return switch (elem) {
            case UINT32, INT64, UINT64 -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) {
                    a[i] = elem == GgufValueType.UINT32 ? u32() : i64();
                }
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[n];
                MemorySegment.copy(file, F32, take(4L * n), a, 0, n);
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) {
                    a[i] = f64();
                }
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = bool();
                }
                yield a;
            }
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) {
                    a[i] = string();
                }
                yield a;
            }
            case ARRAY -> {
                Object[] a = new Object[n];
                for (int i = 0; i < n; i++) {
                    a[i] = array(depth + 1);
                }
                yield a;
            }
            default -> throw new AssertionError(elem);
        };
    }
}
