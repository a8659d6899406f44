package dev.pagoda.format.gguf;

import dev.pagoda.PagodaException;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;

import dev.pagoda.format.MappedFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF model file (versions 2 and 3, little-endian), memory-mapped read-only as a whole.
 *
 * <p>Layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count, the metadata key/value pairs,
 * the tensor infos (name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset), padding to the alignment
 * ({@code general.alignment}, default 32), then the data section, where each tensor's offset is relative.
 *
 * <p>{@link #open} validates everything it can up front (counts, lengths, value types, tensor types, that
 * each tensor's data lies inside the file) and reports a corrupt or unsupported file as a one-line
 * {@link PagodaException} naming the file. Tensor data is not copied: {@link #tensor} returns slices of the
 * mapping, which stay valid until {@link #close}.
 */
public final class GgufFile implements AutoCloseable {
    /** "GGUF" read as a little-endian u32. */
    public static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";
    /** GGML tensors have at most 4 dimensions. */
    static final int MAX_DIMS = 4;
    /** Smallest tensor info: empty name (8), n_dims (4), type (4), offset (8). */
    private static final int MIN_TENSOR_INFO_BYTES = 24;
    /** Smallest metadata entry: empty key (8), value type (4), one-byte value (1). */
    private static final int MIN_KV_BYTES = 13;

    private final Path path;
    private final MappedFile mapped;
    private final MemorySegment file;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufValueType> types;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> tensorsByName;
    private final int alignment;
    private final long dataOffset;
    private boolean closed;

    private GgufFile(Path path, MappedFile mapped, MemorySegment file) {
        this.path = path;
        this.mapped = mapped;
        this.file = file;
        GgufCursor in = new GgufCursor(file, path.toString());

        int magic = in.i32();
        if (magic != MAGIC) {
            throw in.error("not a GGUF file (starts with 0x" + String.format("%08x", Integer.reverseBytes(magic)) + ", expected \"GGUF\")");
        }
        version = in.i32();
        if (version != 2 && version != 3) {
            int swapped = Integer.reverseBytes(version);
            throw in.error(swapped == 2 || swapped == 3
                    ? "big-endian GGUF is not supported"
                    : "GGUF version " + Integer.toUnsignedString(version) + " is not supported (only versions 2 and 3)");
        }
        long tensorCount = in.count("tensor count", MIN_TENSOR_INFO_BYTES);
        long kvCount = in.count("metadata entry count", MIN_KV_BYTES);

        Map<String, Object> kv = new LinkedHashMap<>();
        Map<String, GgufValueType> kvTypes = new HashMap<>();
        for (long i = 0; i < kvCount; i++) {
            in.context("metadata entry " + i);
            String key = in.string();
            in.context("metadata key '" + key + "'");
            GgufValueType type = in.valueType();
            Object value = in.value(type);
            if (kv.putIfAbsent(key, value) != null) {
                throw in.error("duplicate metadata key '" + key + "'");
            }
            kvTypes.put(key, type);
        }
        metadata = Collections.unmodifiableMap(kv);
        types = kvTypes;
        alignment = readAlignment();

        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            in.context("tensor info " + i);
            GgufTensorInfo t = readTensorInfo(in);
            if (byName.putIfAbsent(t.name(), t) != null) {
                throw in.error("duplicate tensor name '" + t.name() + "'");
            }
        }
        tensorsByName = Collections.unmodifiableMap(byName);
        tensors = List.copyOf(byName.values());
        dataOffset = alignUp(in.position(), alignment);
        for (GgufTensorInfo t : tensors) {
            checkData(t);
        }
    }

    /**
     * Maps and parses {@code path}. The caller closes the result.
     *
     * @throws PagodaException when the file is missing, unreadable, corrupt or of an unsupported version or tensor type
     */
    public static GgufFile open(Path path) {
        MappedFile mapped = MappedFile.open(path);
        try {
            if (mapped.segment().byteSize() == 0) {
                throw new PagodaException(path + ": empty file, not a GGUF model");
            }
            return new GgufFile(path, mapped, mapped.segment());
        } catch (RuntimeException e) {
            mapped.close();
            throw e;
        }
    }

    private int readAlignment() {
        if (!has(ALIGNMENT_KEY)) {
            return DEFAULT_ALIGNMENT;
        }
        long a = getLong(ALIGNMENT_KEY);
        if (a <= 0 || a > (1 << 30) || Long.bitCount(a) != 1) {
            throw error(ALIGNMENT_KEY + " is " + a + ", must be a power of two");
        }
        return (int) a;
    }

    private GgufTensorInfo readTensorInfo(GgufCursor in) {
        String name = in.string();
        in.context("tensor '" + name + "'");
        long nDims = in.u32();
        if (nDims > MAX_DIMS) {
            throw in.error("tensor '" + name + "' has " + nDims + " dimensions (at most " + MAX_DIMS + ")");
        }
        long[] ne = new long[(int) nDims];
        long elements = 1;
        for (int d = 0; d < ne.length; d++) {
            ne[d] = in.i64();
            if (ne[d] < 0) {
                throw in.error("tensor '" + name + "' has negative extent " + ne[d] + " in dimension " + d);
            }
            try {
                elements = Math.multiplyExact(elements, ne[d]);
            } catch (ArithmeticException e) {
                throw in.error("tensor '" + name + "' has an impossible shape " + Arrays.toString(ne));
            }
        }
        int typeId = in.i32();
        TensorType type = TensorType.fromGgmlId(typeId);
        if (type == null) {
            throw in.error("tensor '" + name + "' has tensor type " + ggmlTypeName(typeId) + " (type id " + Integer.toUnsignedString(typeId)
                    + "), which Pagoda does not support (supported: " + supportedTypes() + ")");
        }
        long rowLength = ne.length == 0 ? 1 : ne[0];
        if (rowLength % type.blockSize != 0) {
            throw in.error("tensor '" + name + "' of type " + type + " has row length " + rowLength
                    + ", not a multiple of the block size " + type.blockSize);
        }
        if (elements / type.blockSize > Long.MAX_VALUE / type.bytesPerBlock) {
            throw in.error("tensor '" + name + "' has an impossible shape " + Arrays.toString(ne));
        }
        long offset = in.i64();
        return new GgufTensorInfo(name, ne, type, offset);
    }

    /** GGML's names of its tensor types by id (ggml.h's enum ggml_type), to name the ones Pagoda refuses. */
    private static final String[] GGML_TYPE_NAMES = {
        "F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
        "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64",
        "F64", "IQ1_M", "BF16", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0"};

    private static String ggmlTypeName(int id) {
        return id >= 0 && id < GGML_TYPE_NAMES.length ? GGML_TYPE_NAMES[id] : "unknown";
    }

    private static String supportedTypes() {
        StringBuilder s = new StringBuilder();
        for (TensorType t : TensorType.values()) {
            s.append(s.isEmpty() ? "" : " ").append(t).append('=').append(t.ggmlId);
        }
        return s.toString();
    }

    private void checkData(GgufTensorInfo t) {
        long size = file.byteSize();
        long offset = t.offset();
        if (offset < 0 || offset % alignment != 0) {
            throw error("tensor '" + t.name() + "' has data offset " + Long.toUnsignedString(offset)
                    + ", not a multiple of the alignment " + alignment);
        }
        long bytes = t.byteSize();
        if (offset > size || bytes > size || dataOffset + offset + bytes > size) {
            throw error("truncated: tensor '" + t.name() + "' data [" + (dataOffset + offset) + ", "
                    + (dataOffset + offset + bytes) + ") extends beyond the end of the file (" + size + " bytes)");
        }
    }

    static long alignUp(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private PagodaException error(String what) {
        return new PagodaException(path + ": " + what);
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    /** Absolute file offset of the data section (tensor offsets are relative to it). */
    public long dataOffset() {
        return dataOffset;
    }

    public int alignment() {
        return alignment;
    }

    /**
     * All metadata in file order, values as documented on {@link GgufValueType}. The map is unmodifiable;
     * array values are shared with this file and must not be modified (the typed getters return copies).
     */
    public Map<String, Object> metadata() {
        return metadata;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    /** The GGUF type of a metadata value, or null when the key is absent. */
    public GgufValueType type(String key) {
        return types.get(key);
    }

    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    /** The tensor's info, or null when the file has no tensor of that name. */
    public GgufTensorInfo tensorInfo(String name) {
        return tensorsByName.get(name);
    }

    /**
     * The tensor as a matrix viewing the mapped file: {@code cols = ne[0]}, {@code rows} = product of the other
     * extents. Valid until {@link #close}.
     *
     * @throws PagodaException when the file has no such tensor or its shape does not fit an int matrix
     */
    public WeightMatrix tensor(String name) {
        GgufTensorInfo t = tensorsByName.get(name);
        if (t == null) {
            throw error("no tensor named '" + name + "'");
        }
        long cols = t.ne(0);
        long rows = 1;
        for (int d = 1; d < t.nDims(); d++) {
            rows *= t.ne(d); // cannot overflow: the element count was checked at open
        }
        if (cols > Integer.MAX_VALUE || rows > Integer.MAX_VALUE) {
            throw error("tensor '" + name + "' shape " + Arrays.toString(t.ne()) + " is too large for a matrix");
        }
        MemorySegment data = file.asSlice(dataOffset + t.offset(), t.byteSize());
        return new WeightMatrix(name, t.type(), data, (int) rows, (int) cols);
    }

    // ---- typed metadata getters: a missing key or a value of the wrong type is a PagodaException ----

    private Object require(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            throw error("missing metadata key '" + key + "'");
        }
        return v;
    }

    private PagodaException wrongType(String key, String expected) {
        Object v = metadata.get(key);
        String actual = switch (v) {
            case int[] a -> "an array of integers";
            case long[] a -> "an array of integers";
            case float[] a -> "an array of floats";
            case double[] a -> "an array of floats";
            case boolean[] a -> "an array of bools";
            case String[] a -> "an array of strings";
            case Object[] a -> "an array of arrays";
            default -> "a " + types.get(key).specName();
        };
        return error("metadata key '" + key + "' is " + actual + ", expected " + expected);
    }

    public String getString(String key) {
        if (require(key) instanceof String s) {
            return s;
        }
        throw wrongType(key, "a string");
    }

    public String getString(String key, String dflt) {
        return has(key) ? getString(key) : dflt;
    }

    /** Any integer type (u64 values above 2^63-1 come back as their two's-complement bits). */
    public long getLong(String key) {
        return switch (require(key)) {
            case Integer i -> i;
            case Long l -> l;
            default -> throw wrongType(key, "an integer");
        };
    }

    public long getLong(String key, long dflt) {
        return has(key) ? getLong(key) : dflt;
    }

    /** Any integer type whose value fits an int. */
    public int getInt(String key) {
        long v = getLong(key);
        if (v != (int) v) {
            throw error("metadata key '" + key + "' value " + v + " does not fit in an int");
        }
        return (int) v;
    }

    public int getInt(String key, int dflt) {
        return has(key) ? getInt(key) : dflt;
    }

    /** An f32 or f64 value (f64 rounded to float). */
    public float getFloat(String key) {
        return switch (require(key)) {
            case Float f -> f;
            case Double d -> (float) (double) d;
            default -> throw wrongType(key, "a float");
        };
    }

    public float getFloat(String key, float dflt) {
        return has(key) ? getFloat(key) : dflt;
    }

    public boolean getBool(String key) {
        if (require(key) instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, "a bool");
    }

    public boolean getBool(String key, boolean dflt) {
        return has(key) ? getBool(key) : dflt;
    }

    /** A copy of a string array. */
    public String[] getStringArray(String key) {
        if (require(key) instanceof String[] a) {
            return a.clone();
        }
        throw wrongType(key, "an array of strings");
    }

    public String[] getStringArray(String key, String[] dflt) {
        return has(key) ? getStringArray(key) : dflt;
    }

    /** A copy of an f32 array, or an f64 array rounded to float. */
    public float[] getFloatArray(String key) {
        return switch (require(key)) {
            case float[] a -> a.clone();
            case double[] a -> {
                float[] f = new float[a.length];
                for (int i = 0; i < a.length; i++) {
                    f[i] = (float) a[i];
                }
                yield f;
            }
            default -> throw wrongType(key, "an array of floats");
        };
    }

    public float[] getFloatArray(String key, float[] dflt) {
        return has(key) ? getFloatArray(key) : dflt;
    }

    /** A copy of an array of any integer element type whose values all fit an int. */
    public int[] getIntArray(String key) {
        return switch (require(key)) {
            case int[] a -> a.clone();
            case long[] a -> {
                int[] r = new int[a.length];
                for (int i = 0; i < a.length; i++) {
                    if (a[i] != (int) a[i]) {
                        throw error("metadata key '" + key + "' element " + i + " value " + a[i] + " does not fit in an int");
                    }
                    r[i] = (int) a[i];
                }
                yield r;
            }
            default -> throw wrongType(key, "an array of integers");
        };
    }

    public int[] getIntArray(String key, int[] dflt) {
        return has(key) ? getIntArray(key) : dflt;
    }

    /** Unmaps the file; tensor data obtained from it must not be used afterwards. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            mapped.close();
        }
    }

    @Override
    public String toString() {
        return "GGUF v" + version + " " + path + " (" + metadata.size() + " metadata keys, " + tensors.size() + " tensors)";
    }
}
