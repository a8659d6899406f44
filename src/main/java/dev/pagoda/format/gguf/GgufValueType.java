package dev.pagoda.format.gguf;

/**
 * The value types of GGUF metadata, with their on-disk ids. Fixed-size types carry their byte width;
 * STRING (u64 length + UTF-8 bytes) and ARRAY (u32 element type + u64 count + elements) are variable.
 *
 * <p>How {@link GgufFile#metadata()} represents each type in Java:
 * UINT8, INT8, UINT16, INT16, INT32 as {@code Integer} (unsigned ones zero-extended); UINT32, INT64, UINT64 as
 * {@code Long} (UINT64 keeps its raw bits); FLOAT32 as {@code Float}; FLOAT64 as {@code Double}; BOOL as
 * {@code Boolean}; STRING as {@code String}; ARRAY as a Java array of the element's representation, unboxed
 * ({@code int[]}, {@code long[]}, {@code float[]}, {@code double[]}, {@code boolean[]}, {@code String[]}),
 * and an array of arrays as {@code Object[]}.
 */
public enum GgufValueType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    STRING(8, -1),
    ARRAY(9, -1),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    public final int id;
    /** Bytes of one value, or -1 for the variable-size STRING and ARRAY. */
    public final int size;

    GgufValueType(int id, int size) {
        this.id = id;
        this.size = size;
    }

    /** Fewest bytes one value can occupy on disk; bounds counts read from a possibly corrupt file. */
    int minSize() {
        return switch (this) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> size;
        };
    }

    /** Integer types held as {@code Integer} (scalars) or {@code int[]} (arrays). */
    boolean fitsInt() {
        return this == UINT8 || this == INT8 || this == UINT16 || this == INT16 || this == INT32;
    }

    boolean isInteger() {
        return fitsInt() || this == UINT32 || this == INT64 || this == UINT64;
    }

    /** The type with the given id, or null when the id is not a GGUF value type. */
    public static GgufValueType fromId(int id) {
        GgufValueType[] all = values();
        return id >= 0 && id < all.length ? all[id] : null;
    }

    /** Lower-case name as the GGUF documentation writes it (u32, f32, string, ...). */
    public String specName() {
        return switch (this) {
            case UINT8 -> "u8";
            case INT8 -> "i8";
            case UINT16 -> "u16";
            case INT16 -> "i16";
            case UINT32 -> "u32";
            case INT32 -> "i32";
            case FLOAT32 -> "f32";
            case BOOL -> "bool";
            case STRING -> "string";
            case ARRAY -> "array";
            case UINT64 -> "u64";
            case INT64 -> "i64";
            case FLOAT64 -> "f64";
        };
    }
}
