package dev.pagoda.format.gguf;

import dev.pagoda.kernel.TensorType;

import java.util.Arrays;

/**
 * One entry of a GGUF file's tensor-info table.
 *
 * @param name   tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param ne     extents in GGML order: {@code ne[0]} is the contiguous (row) length, the last one varies slowest
 * @param type   element encoding
 * @param offset byte offset of the data from the start of the data section (a multiple of the file's alignment)
 */
public record GgufTensorInfo(String name, long[] ne, TensorType type, long offset) {
    public GgufTensorInfo {
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    public int nDims() {
        return ne.length;
    }

    /** Extent of dimension {@code i} (GGML order); 1 beyond the stored dimensions, as in GGML. */
    public long ne(int i) {
        return i < ne.length ? ne[i] : 1;
    }

    public long elementCount() {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        return n;
    }

    /** Bytes of the tensor's data. */
    public long byteSize() {
        return type.bytesFor(elementCount());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(ne, t.ne) && type == t.type && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(ne);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(ne) + " @" + offset;
    }
}
