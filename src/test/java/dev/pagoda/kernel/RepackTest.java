package dev.pagoda.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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

    /** Q6_K keeps its values exactly: the same float scale times the same integer. */
    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"Q6_K"})
    void keepsValuesExactly(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(type.ordinal());
        // enough rows to take the parallel path
        WeightMatrix w = fileMatrix(rnd, type, 300, 512);
        WeightMatrix packed = Repack.forKernels(w);
        assertThat(packed.type()).isEqualTo(Repack.kernelType(type)).isNotEqualTo(type);
        assertThat(packed.byteSize()).isEqualTo(w.rows() * packed.type().bytesFor(w.cols()));
        assertThat(dequant(packed)).containsExactly(dequant(w));
    }

    /**
     * Q4_K_R's element is fma(q, d*scale, -dmin*min), Q4_K's (d*scale)*q - dmin*min rounded twice: they differ by at
     * most one rounding of the product, half an ulp of |d*scale*q| <= 2^-24 * (|x| + |dmin*min|); the test allows
     * 2^-23 * (|x| + the row's largest |x|).
     */
    @Test
    void q4KValuesWithinOneRounding() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (WeightMatrix w : new WeightMatrix[] {fileMatrix(rnd, TensorType.Q4_K, 9, 768), TestMatrices.randomBlocks(rnd, TensorType.Q4_K, 5, 512)}) {
            float[] ref = dequant(w);
            float[] got = dequant(Repack.forKernels(w));
            int cols = w.cols();
            for (int r = 0; r < w.rows(); r++) {
                float rowMax = 0;
                for (int c = 0; c < cols; c++) {
                    rowMax = Math.max(rowMax, Math.abs(ref[r * cols + c]));
                }
                for (int c = 0; c < cols; c++) {
                    int i = r * cols + c;
                    assertThat((double) got[i]).as("row %d col %d", r, c)
                            .isCloseTo(ref[i], within(0x1p-23 * (Math.abs(ref[i]) + rowMax)));
                }
            }
        }
    }

    /** Types the kernels read as stored come back as the same matrix, no copy. */
    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"Q4_0", "Q5_K", "Q6_K_R", "Q4_K_R"})
    void leavesOtherTypesAsTheyAre(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(5);
        WeightMatrix w = fileMatrix(rnd, type, 3, 256);
        assertThat(Repack.forKernels(w)).isSameAs(w);
    }

    /**
     * Float types, Q8_0 and Q5_0 keep their rows (same type, same memory: embedding lookups read them) and gain panels,
     * once.
     */
    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q5_0"})
    void keepTheirRowsAndGainPanels(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(5);
        WeightMatrix w = fileMatrix(rnd, type, 3, 256);
        WeightMatrix k = Repack.forKernels(w);
        assertThat(k.type()).isEqualTo(type);
        assertThat(k.data()).isSameAs(w.data());
        assertThat(k.panels()).isNotNull();
        assertThat(Repack.forKernels(k)).isSameAs(k);
    }

    /** The kernel layouts are never GGUF types: not found by id. */
    @Test
    void kernelLayoutsAreNotFileTypes() {
        for (TensorType t : TensorType.values()) {
            assertThat(t.inFiles()).as("%s", t).isEqualTo(t.ggmlId >= 0);
            if (t.inFiles()) {
                assertThat(TensorType.fromGgmlId(t.ggmlId)).isEqualTo(t);
            }
        }
        assertThat(TensorType.fromGgmlId(-1)).isNull();
    }
}
