package dev.pagoda.format.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.PagodaException;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;

import dev.pagoda.format.MappedFile;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A safetensors file, memory-mapped read-only: u64 little-endian header length N, N bytes of JSON header
 * ({@code name -> {dtype, shape, data_offsets: [begin, end]}} plus an optional {@code __metadata__} string map),
 * then the data buffer that the offsets index.
 *
 * <p>{@link #open} validates the header and every tensor's extent against the file size; a tensor whose dtype
 * Pagoda cannot compute with (only F32, F16 and BF16 can) fails when it is requested, so models carrying
 * unused integer buffers still open. Tensor data stays valid until {@link #close}.
 */
public final class SafetensorsFile implements AutoCloseable {
    public static final String METADATA_KEY = "__metadata__";
    /** The format's own cap on the header size; larger means corruption. */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path path;
    private final MappedFile mapped;
    private final MemorySegment file;
    private final long dataStart;
    private final Map<String, String> metadata;
    private final Map<String, SafetensorsTensorInfo> tensors;
    private boolean closed;

    private SafetensorsFile(Path path, MappedFile mapped, MemorySegment file) {
        this.path = path;
        this.mapped = mapped;
        this.file = file;
        long size = file.byteSize();
        if (size < 8) {
            throw error("truncated: " + size + " bytes, too short for the 8-byte header length");
        }
        long headerLength = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
            throw error("header length " + Long.toUnsignedString(headerLength) + " is impossible for a file of " + size + " bytes (truncated or not safetensors)");
        }
        dataStart = 8 + headerLength;
        JsonNode header;
        try {
            header = JSON.readTree(file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE));
        } catch (JsonProcessingException e) {
            throw error("invalid JSON header: " + e.getOriginalMessage().replace('\n', ' '));
        } catch (IOException e) {
            throw error("invalid JSON header: " + e.getMessage());
        }
        if (header == null || !header.isObject()) {
            throw error("header is not a JSON object");
        }
        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, SafetensorsTensorInfo> infos = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                readMetadata(e.getValue(), meta);
            } else {
                infos.put(e.getKey(), readTensorInfo(e.getKey(), e.getValue(), size - dataStart));
            }
        }
        metadata = Collections.unmodifiableMap(meta);
        tensors = Collections.unmodifiableMap(infos);
    }

    /**
     * Maps and parses {@code path}. The caller closes the result.
     *
     * @throws PagodaException when the file is missing, unreadable or corrupt
     */
    public static SafetensorsFile open(Path path) {
        MappedFile mapped = MappedFile.open(path);
        try {
            return new SafetensorsFile(path, mapped, mapped.segment());
        } catch (RuntimeException e) {
            mapped.close();
            throw e;
        }
    }

    private void readMetadata(JsonNode node, Map<String, String> into) {
        if (!node.isObject()) {
            throw error(METADATA_KEY + " is not a JSON object");
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw error(METADATA_KEY + " entry '" + e.getKey() + "' is not a string");
            }
            into.put(e.getKey(), e.getValue().asText());
        }
    }

    private SafetensorsTensorInfo readTensorInfo(String name, JsonNode node, long dataSize) {
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (!node.isObject() || dtype == null || !dtype.isTextual() || shape == null || !shape.isArray()
                || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw error("tensor '" + name + "' needs \"dtype\" (string), \"shape\" (array) and \"data_offsets\" ([begin, end])");
        }
        long[] dims = new long[shape.size()];
        long elements = 1;
        for (int i = 0; i < dims.length; i++) {
            dims[i] = nonNegative(name, "shape", shape.get(i));
            try {
                elements = Math.multiplyExact(elements, dims[i]);
            } catch (ArithmeticException e) {
                throw error("tensor '" + name + "' has an impossible shape " + shape);
            }
        }
        long begin = nonNegative(name, "data_offsets", offsets.get(0));
        long end = nonNegative(name, "data_offsets", offsets.get(1));
        if (begin > end || end > dataSize) {
            throw error("truncated: tensor '" + name + "' data_offsets [" + begin + ", " + end
                    + ") lie outside the " + dataSize + "-byte data buffer");
        }
        int width = elementBytes(dtype.asText());
        if (width > 0 && (elements > Long.MAX_VALUE / width || end - begin != elements * width)) {
            throw error("tensor '" + name + "' has " + (end - begin) + " bytes, but " + dtype.asText() + " "
                    + shape + " needs " + (elements > Long.MAX_VALUE / width ? "more" : String.valueOf(elements * width)));
        }
        return new SafetensorsTensorInfo(name, dtype.asText(), dims, begin, end);
    }

    private long nonNegative(String tensor, String field, JsonNode v) {
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
            throw error("tensor '" + tensor + "' has an invalid " + field + " value " + v);
        }
        return v.asLong();
    }

    /** Bytes per element of a safetensors dtype, or 0 when unknown (then its size cannot be checked). */
    private static int elementBytes(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2" -> 1;
            default -> 0;
        };
    }

    /** The Pagoda tensor type for a safetensors dtype, or null when Pagoda cannot compute with it. */
    static TensorType tensorType(String dtype) {
        return switch (dtype) {
            case "F32" -> TensorType.F32;
            case "F16" -> TensorType.F16;
            case "BF16" -> TensorType.BF16;
            default -> null;
        };
    }

    private PagodaException error(String what) {
        return new PagodaException(path + ": " + what);
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} string map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in header order. */
    public Set<String> names() {
        return tensors.keySet();
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor's header entry, or null when absent. */
    public SafetensorsTensorInfo tensorInfo(String name) {
        return tensors.get(name);
    }

    /**
     * The tensor as a row-major matrix viewing the mapped file: shape [rows, cols]; a 1-D shape [n] is 1 x n,
     * a scalar 1 x 1, and more dimensions fold into the rows. Valid until {@link #close}.
     *
     * @throws PagodaException when absent, of a dtype other than F32/F16/BF16, or too large for an int matrix
     */
    public WeightMatrix tensor(String name) {
        SafetensorsTensorInfo t = tensors.get(name);
        if (t == null) {
            throw error("no tensor named '" + name + "'");
        }
        TensorType type = tensorType(t.dtype());
        if (type == null) {
            throw error("tensor '" + name + "' has dtype " + t.dtype() + ", which Pagoda does not support (F32, F16, BF16)");
        }
        long[] shape = t.shape();
        long cols = shape.length == 0 ? 1 : shape[shape.length - 1];
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            rows *= shape[i]; // cannot overflow: the element count was checked at open
        }
        if (cols > Integer.MAX_VALUE || rows > Integer.MAX_VALUE) {
            throw error("tensor '" + name + "' shape " + Arrays.toString(shape) + " is too large for a matrix");
        }
        return new WeightMatrix(name, type, file.asSlice(dataStart + t.begin(), t.byteSize()), (int) rows, (int) cols);
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
        return "safetensors " + path + " (" + tensors.size() + " tensors)";
    }
}
