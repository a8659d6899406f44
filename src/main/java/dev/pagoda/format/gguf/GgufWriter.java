package dev.pagoda.format.gguf;

import dev.pagoda.kernel.TensorType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a GGUF v3 file: metadata in insertion order, tensor infos in insertion order, the data section
 * aligned, and each tensor's data padded to the alignment (as llama.cpp writes them).
 *
 * <p>Tensor data is streamed: {@link #write} maps the output file and hands each tensor its destination slice,
 * so a {@link TensorData} source can generate weights in place without the model ever existing on the heap.
 * Misuse (wrong data size, bad shapes, duplicate names) is a programming error: IllegalArgumentException.
 */
public final class GgufWriter {
    /** Fills a tensor's bytes (little-endian, in the tensor type's encoding) into {@code dst}, sized exactly. */
    @FunctionalInterface
    public interface TensorData {
        void fill(MemorySegment dst);
    }

    private record Entry(GgufValueType type, GgufValueType elementType, Object value) {
    }

    private record PendingTensor(String name, TensorType type, long[] ne, long byteSize, TensorData data) {
    }

    private final int alignment;
    private final Map<String, Entry> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    /** A writer with GGUF's default alignment of 32 bytes. */
    public GgufWriter() {
        this(GgufFile.DEFAULT_ALIGNMENT);
    }

    /** A writer with the given data alignment; other than 32 it is recorded as {@code general.alignment}. */
    public GgufWriter(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two, got " + alignment);
        }
        this.alignment = alignment;
        if (alignment != GgufFile.DEFAULT_ALIGNMENT) {
            put(GgufFile.ALIGNMENT_KEY, GgufValueType.UINT32, (long) alignment);
        }
    }

    public GgufWriter put(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    /** Stored as i32; use {@link #put(String, GgufValueType, Object)} for other integer types (llama.cpp wants u32 for counts). */
    public GgufWriter put(String key, int value) {
        return put(key, GgufValueType.INT32, value);
    }

    public GgufWriter put(String key, long value) {
        return put(key, GgufValueType.INT64, value);
    }

    public GgufWriter put(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter put(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    public GgufWriter put(String key, String[] value) {
        return putArray(key, GgufValueType.STRING, value);
    }

    public GgufWriter put(String key, float[] value) {
        return putArray(key, GgufValueType.FLOAT32, value);
    }

    /** Stored as an i32 array. */
    public GgufWriter put(String key, int[] value) {
        return putArray(key, GgufValueType.INT32, value);
    }

    /**
     * A value of an explicit type, in the Java representation {@link GgufFile#metadata()} returns for it (any
     * {@code Number} for numeric types). For ARRAY the element type follows the Java array class (int[] as i32,
     * long[] as i64, Object[] as nested arrays); see {@link #putArray} to choose it. Replaces an earlier value.
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        if (type == GgufValueType.ARRAY) {
            return putArray(key, elementTypeOf(value), value);
        }
        checkScalar(key, type, value);
        // The layout is computed from the constructor's alignment; a different recorded value would misplace all data.
        if (key.equals(GgufFile.ALIGNMENT_KEY) && (!type.isInteger() || ((Number) value).longValue() != alignment)) {
            throw new IllegalArgumentException(GgufFile.ALIGNMENT_KEY + " must equal the writer's alignment " + alignment + "; use new GgufWriter(alignment)");
        }
        metadata.put(key, new Entry(type, null, value));
        return this;
    }

    /**
     * An array with an explicit element type. {@code array} is int[] or long[] for integer element types,
     * float[]/double[] for FLOAT32/FLOAT64, boolean[], String[], or Object[] of arrays for ARRAY.
     */
    public GgufWriter putArray(String key, GgufValueType elementType, Object array) {
        if (key.equals(GgufFile.ALIGNMENT_KEY)) {
            throw new IllegalArgumentException(GgufFile.ALIGNMENT_KEY + " must be an integer");
        }
        checkArray(key, elementType, array);
        metadata.put(key, new Entry(GgufValueType.ARRAY, elementType, array));
        return this;
    }

    public GgufWriter addTensor(String name, TensorType type, long[] ne, byte[] data) {
        return addTensor(name, type, ne, MemorySegment.ofArray(data));
    }

    /** Adds a tensor whose bytes are copied from {@code data} at {@link #write} time (keep it alive until then). */
    public GgufWriter addTensor(String name, TensorType type, long[] ne, MemorySegment data) {
        long need = tensorBytes(name, type, ne);
        if (data.byteSize() != need) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.byteSize() + " bytes of data, " + type + " " + Arrays.toString(ne) + " needs " + need);
        }
        return addTensor(name, type, ne, dst -> MemorySegment.copy(data, 0, dst, 0, need));
    }

    /** Adds a tensor whose bytes {@code data} generates into the output file at {@link #write} time. */
    public GgufWriter addTensor(String name, TensorType type, long[] ne, TensorData data) {
        long bytes = tensorBytes(name, type, ne);
        if (!tensorNames.add(name)) {
            throw new IllegalArgumentException("duplicate tensor '" + name + "'");
        }
        tensors.add(new PendingTensor(name, type, ne.clone(), bytes, data));
        return this;
    }

    private static long tensorBytes(String name, TensorType type, long[] ne) {
        if (ne.length > GgufFile.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + ne.length + " dimensions (at most " + GgufFile.MAX_DIMS + ")");
        }
        long elements = 1;
        for (long d : ne) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative extent");
            }
            elements = Math.multiplyExact(elements, d);
        }
        long rowLength = ne.length == 0 ? 1 : ne[0];
        if (rowLength % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': " + type + " row length " + rowLength + " is not a multiple of " + type.blockSize);
        }
        return type.bytesFor(elements);
    }

    /** Writes the file, replacing any existing one; a failed write deletes the partial file. */
    public void write(Path path) {
        GgufHeaderBuffer h = new GgufHeaderBuffer();
        h.u32(GgufFile.MAGIC);
        h.u32(3);
        h.u64(tensors.size());
        h.u64(metadata.size());
        metadata.forEach((key, e) -> {
            h.string(key);
            h.u32(e.type().id);
            if (e.type() == GgufValueType.ARRAY) {
                writeArray(h, e.elementType(), e.value());
            } else {
                writeScalar(h, e.type(), e.value());
            }
        });
        long[] offsets = new long[tensors.size()];
        long dataSize = 0;
        for (int i = 0; i < tensors.size(); i++) {
            PendingTensor t = tensors.get(i);
            offsets[i] = dataSize;
            dataSize = GgufFile.alignUp(dataSize + t.byteSize(), alignment);
            h.string(t.name());
            h.u32(t.ne().length);
            for (long d : t.ne()) {
                h.u64(d);
            }
            h.u32(t.type().ggmlId);
            h.u64(offsets[i]);
        }
        long dataOffset = GgufFile.alignUp(h.size(), alignment);
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                     StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // A freshly extended file reads as zeros, so the padding needs no writes.
            MemorySegment out = ch.map(FileChannel.MapMode.READ_WRITE, 0, dataOffset + dataSize, arena);
            MemorySegment.copy(h.array(), 0, out, ValueLayout.JAVA_BYTE, 0, h.size());
            for (int i = 0; i < tensors.size(); i++) {
                PendingTensor t = tensors.get(i);
                t.data().fill(out.asSlice(dataOffset + offsets[i], t.byteSize()));
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot write " + path + ": " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
    }

    // ---- value encoding ----

    private static GgufValueType elementTypeOf(Object array) {
        return switch (array) {
            case int[] a -> GgufValueType.INT32;
            case long[] a -> GgufValueType.INT64;
            case float[] a -> GgufValueType.FLOAT32;
            case double[] a -> GgufValueType.FLOAT64;
            case boolean[] a -> GgufValueType.BOOL;
            case String[] a -> GgufValueType.STRING;
            case Object[] a -> GgufValueType.ARRAY;
            case null, default -> throw new IllegalArgumentException("not a GGUF array value: " + array);
        };
    }

    private static void checkScalar(String key, GgufValueType type, Object value) {
        boolean ok = switch (type) {
            case STRING -> value instanceof String;
            case BOOL -> value instanceof Boolean;
            case FLOAT32, FLOAT64 -> value instanceof Number;
            case ARRAY -> false;
            default -> value instanceof Number n && inRange(type, n.longValue())
                    && (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte);
        };
        if (!ok) {
            throw new IllegalArgumentException("metadata '" + key + "': " + value + " is not a valid " + type.specName());
        }
    }

    private static boolean inRange(GgufValueType type, long v) {
        return switch (type) {
            case UINT8 -> v >= 0 && v <= 0xFF;
            case INT8 -> v == (byte) v;
            case UINT16 -> v >= 0 && v <= 0xFFFF;
            case INT16 -> v == (short) v;
            case UINT32 -> v >= 0 && v <= 0xFFFF_FFFFL;
            case INT32 -> v == (int) v;
            default -> true; // 64-bit types take any long (u64 as raw bits)
        };
    }

    private static void checkArray(String key, GgufValueType elementType, Object array) {
        boolean ok = switch (elementType) {
            case STRING -> array instanceof String[] s && !Arrays.asList(s).contains(null);
            case BOOL -> array instanceof boolean[];
            case FLOAT32, FLOAT64 -> array instanceof float[] || array instanceof double[];
            case ARRAY -> {
                if (!(array instanceof Object[] nested)) {
                    yield false;
                }
                for (Object inner : nested) {
                    checkArray(key, elementTypeOf(inner), inner);
                }
                yield true;
            }
            default -> switch (array) {
                case int[] a -> Arrays.stream(a).allMatch(v -> inRange(elementType, v));
                case long[] a -> Arrays.stream(a).allMatch(v -> inRange(elementType, v));
                default -> false;
            };
        };
        if (!ok) {
            throw new IllegalArgumentException("metadata '" + key + "': not a valid array of " + elementType.specName());
        }
    }

    private static void writeScalar(GgufHeaderBuffer h, GgufValueType type, Object value) {
        switch (type) {
            case UINT8, INT8, BOOL -> h.u8(value instanceof Boolean b ? (b ? 1 : 0) : ((Number) value).intValue());
            case UINT16, INT16 -> h.u16(((Number) value).intValue());
            case UINT32, INT32 -> h.u32((int) ((Number) value).longValue());
            case UINT64, INT64 -> h.u64(((Number) value).longValue());
            case FLOAT32 -> h.f32(((Number) value).floatValue());
            case FLOAT64 -> h.f64(((Number) value).doubleValue());
            case STRING -> h.string((String) value);
            case ARRAY -> writeArray(h, elementTypeOf(value), value);
        }
    }

    private static void writeArray(GgufHeaderBuffer h, GgufValueType elementType, Object array) {
        h.u32(elementType.id);
        switch (array) {
            case int[] a -> {
                h.u64(a.length);
                for (int v : a) {
                    writeScalar(h, elementType, v);
                }
            }
            case long[] a -> {
                h.u64(a.length);
                for (long v : a) {
                    writeScalar(h, elementType, v);
                }
            }
            case float[] a -> {
                h.u64(a.length);
                for (float v : a) {
                    writeScalar(h, elementType, v);
                }
            }
            case double[] a -> {
                h.u64(a.length);
                for (double v : a) {
                    writeScalar(h, elementType, v);
                }
            }
            case boolean[] a -> {
                h.u64(a.length);
                for (boolean v : a) {
                    h.u8(v ? 1 : 0);
                }
            }
            case Object[] a -> {
                h.u64(a.length);
                for (Object v : a) {
                    writeScalar(h, elementType, v);
                }
            }
            default -> throw new AssertionError(array);
        }
    }
}
