package dev.pagoda.kernel;

/**
 * Element encodings of weight tensors, with GGML's type ids and block layouts.
 * Quantized types store elements in blocks: {@code blockSize} elements in {@code bytesPerBlock} bytes.
 * A matrix row of {@code cols} elements occupies {@code rowBytes(cols)} bytes; rows are contiguous.
 */
public enum TensorType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),   // f16 scale d, 16 bytes of nibbles: x = d * (q - 8); low nibbles are elements 0..15
    Q5_0(6, 32, 22),   // f16 scale d, 32 high bits, 16 bytes of nibbles: x = d * (q - 16)
    Q8_0(8, 32, 34),   // f16 scale d, 32 int8: x = d * q
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    BF16(30, 1, 2);

    public final int ggmlId;
    public final int blockSize;
    public final int bytesPerBlock;

    TensorType(int ggmlId, int blockSize, int bytesPerBlock) {
        this.ggmlId = ggmlId;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Bytes of {@code elements} elements; elements must be a multiple of the block size. */
    public long bytesFor(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(this + " needs a multiple of " + blockSize + " elements, got " + elements);
        }
        return elements / blockSize * bytesPerBlock;
    }

    /** The type with the given GGML id, or null when Pagoda does not support it. */
    public static TensorType fromGgmlId(int id) {
        for (TensorType t : values()) {
            if (t.ggmlId == id) {
                return t;
            }
        }
        return null;
    }
}
