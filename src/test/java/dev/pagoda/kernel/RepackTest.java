package dev.pagoda.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RepackTest {
    private static WeightMatrix fileMatrix(SplittableRandom rnd, TensorType type, int rows, int cols) {
        if (type == TensorType.Q5_0 || type == TensorType.Q5_K) {
            return TestMatrices.randomBlocks(rnd, type, rows, cols);
        }
        return TestMatrices.encode(type, TestMatrices.gaussian(rnd, rows * cols, 0.5f), rows, cols);
    }

    private static float[] dequant(WeightMatrix w) {
        float[] out = new float[w.rows() * w.cols()];
        for (int r = 0; r < w.rows(); r++) {
            Dequant.row(w, r, out, r * w.cols());
        }
        return out;
    }

    /** Every type keeps its rows (same type, same memory: embedding lookups read them) and gains panels, once. */
    @ParameterizedTest
    @EnumSource(TensorType.class)
    void keepTheirRowsAndGainPanels(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(5);
        WeightMatrix w = fileMatrix(rnd, type, 3, 256);
        WeightMatrix k = Repack.forKernels(w);
        assertThat(k.type()).isEqualTo(type);
        assertThat(k.data()).isSameAs(w.data());
        assertThat(k.panels()).isNotNull();
        assertThat(Repack.forKernels(k)).isSameAs(k);
    }

    /** Every type is found by its GGML id; an unknown id is not. */
    @Test
    void typesAreFoundByGgmlId() {
        for (TensorType t : TensorType.values()) {
            assertThat(TensorType.fromGgmlId(t.ggmlId)).isEqualTo(t);
        }
        assertThat(TensorType.fromGgmlId(-1)).isNull();
    }
}
