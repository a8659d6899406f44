package dev.pagoda.kernel;

import java.lang.foreign.MemorySegment;

/**
 * A read-only weight matrix of {@code rows x cols} elements in {@code type}'s encoding, row-major,
 * usually a slice of a memory-mapped model file (little-endian). Row r starts at byte
 * {@code r * rowBytes()}. A 1-D tensor of n elements is a matrix of 1 row and n columns.
 */
public record WeightMatrix(String name, TensorType type, MemorySegment data, int rows, int cols) {
    public WeightMatrix {
        long need = (long) rows * type.bytesFor(cols);
        if (data.byteSize() < need) {
            throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes for " + rows + "x" + cols + " " + type + " (need " + need + ")");
        }
    }

    public long rowBytes() {
        return type.bytesFor(cols);
    }

    public long byteSize() {
        return rows * rowBytes();
    }
}
