package dev.pagoda.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.kernel.MatMul;
import dev.pagoda.kernel.Quantize;
import dev.pagoda.kernel.Repack;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Layers split into parts of whole panels give each row the bits of the whole matrix, whatever the number of parts. */
class ColumnParallelTest {
    private final SplittableRandom rnd = new SplittableRandom(11);

    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "Q8_0", "Q4_K", "Q6_K", "Q4_0"})
    void partsScatterToTheWholeMatricesBits(TensorType type) {
        int cols = 256, tokens = 5;
        WeightMatrix a = matrix(type, "a", 100, cols), b = matrix(type, "b", 48, cols);
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
    void matricesWithTooFewPanelsAreNotSplit() {
        assertThat(ColumnParallel.of(3, matrix(TensorType.F32, "small", dev.pagoda.kernel.VectorMath.L + 4, 16))).as("2 panels, 3 parts").isNull();
    }

    /** As the engine uses them: float or int8 panels, or the rows layouts of the other quantized types. */
    private WeightMatrix matrix(TensorType type, String name, int rows, int cols) {
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        MemorySegment data = Arena.ofAuto().allocate(type.bytesFor(cols) * rows, 64);
        data.copyFrom(MemorySegment.ofArray(Quantize.encode(type, values)));
        return Repack.forKernels(new WeightMatrix(name, type, data, rows, cols));
    }
}
