package dev.pagoda.format.safetensors;

import java.util.Arrays;

/**
 * One entry of a safetensors header.
 *
 * @param name  tensor name, e.g. {@code model.layers.0.self_attn.q_proj.weight}
 * @param dtype the dtype string as written (F32, F16, BF16, I64, ...)
 * @param shape extents, slowest-varying first (row-major: the last one is contiguous)
 * @param begin start of the data, relative to the data buffer that follows the header
 * @param end   end (exclusive) of the data, relative to the data buffer
 */
public record SafetensorsTensorInfo(String name, String dtype, long[] shape, long begin, long end) {
    public SafetensorsTensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public long byteSize() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SafetensorsTensorInfo t && name.equals(t.name) && dtype.equals(t.dtype)
                && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
}
