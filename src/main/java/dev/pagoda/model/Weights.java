package dev.pagoda.model;

import dev.pagoda.kernel.Dequant;
import dev.pagoda.kernel.WeightMatrix;

/** Small helpers for carving and reading weight tensors. */
final class Weights {
    private Weights() {
    }

    /** Rows [first, first+count) of a matrix, as a matrix over the same memory. */
    static WeightMatrix rows(WeightMatrix m, int first, int count) {
        long rb = m.rowBytes();
        return new WeightMatrix(m.name() + "[" + first + ":" + (first + count) + "]", m.type(),
                m.data().asSlice(first * rb, count * rb), count, m.cols());
    }

    /** A 1-D tensor (one row, or a column vector stored as n rows of 1) as floats, whatever its encoding. */
    static float[] vector(WeightMatrix m) {
        int n = m.rows() * m.cols();
        float[] out = new float[n];
        if (m.rows() == 1) {
            Dequant.row(m, 0, out, 0);
        } else {
            for (int r = 0; r < m.rows(); r++) {
                Dequant.row(m, r, out, r * m.cols());
            }
        }
        return out;
    }
}
