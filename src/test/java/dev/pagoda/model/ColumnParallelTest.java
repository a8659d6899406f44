package dev.pagoda.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.kernel.MatMul;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Layers split into parts of whole panels give each row the bits of the whole matrix, whatever the number of parts. */
class ColumnParallelTest {
    private final SplittableRandom rnd = new SplittableRandom(11);

    @Test
    void partsScatterToTheWholeMatricesBits() {
        int cols = 72, tokens = 5;
        WeightMatrix a = matrix("a", 100, cols), b = matrix("b", 48, cols);
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] wantA = new float[tokens * a.rows()], wantB = new float[tokens * b.rows()];
        MatMul.matmul(a, x, 0, tokens, wantA, 0);
        MatMul.matmul(b, x, 0, tokens, wantB, 0);
        for (int parts : new int[] {1, 2, 3}) {
            ColumnParallel layers = ColumnParallel.of(parts, a, b);
            assertThat(layers).isNotNull();
            float[] scratch = new float[tokens * (a.rows() + b.rows())];
            float[] gotA = new float[wantA.length], gotB = new float[wantB.length];
            for (int p = parts - 1; p >= 0; p--) {
                layers.multiply(p, x, tokens, scratch);
                layers.scatter(p, 0, tokens, scratch, gotA, a.rows());
                layers.scatter(p, 1, tokens, scratch, gotB, b.rows());
            }
            assertThat(gotA).as("%d parts", parts).containsExactly(wantA);
            assertThat(gotB).as("%d parts", parts).containsExactly(wantB);
        }
    }

    @Test
    void matricesWithoutPanelsOrWithTooFewAreNotSplit() {
        WeightMatrix rowsOnly = new WeightMatrix("r", TensorType.F32, Arena.ofAuto().allocate(4L * 32 * 8), 32, 8);
        assertThat(ColumnParallel.of(2, rowsOnly)).isNull();
        assertThat(ColumnParallel.of(3, matrix("small", dev.pagoda.kernel.VectorMath.L + 4, 16))).as("2 panels, 3 parts").isNull();
    }

    private WeightMatrix matrix(String name, int rows, int cols) {
        MemorySegment data = Arena.ofAuto().allocate(4L * rows * cols, 64);
        for (long i = 0; i < (long) rows * cols; i++) {
            data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) rnd.nextGaussian());
        }
        return new WeightMatrix(name, TensorType.F32, data, rows, cols).packed();
    }
}
