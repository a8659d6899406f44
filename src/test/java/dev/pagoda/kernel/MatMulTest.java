package dev.pagoda.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MatMulTest {
    private static final WorkerPool POOL3 = new WorkerPool(3);

    @AfterAll
    static void noop() {
        // the pools' threads are daemons
    }

    /** Shapes where the types allow it: odd rows always; cols not a multiple of the vector length or tile for float types. */
    private static int[][] shapes(TensorType type) {
        if (type.isQuantized()) {
            int b = type.blockSize;
            return new int[][] {{1, b}, {7, 3 * b}, {33, 5 * b}};
        }
        return new int[][] {{1, 1}, {7, 37}, {33, 130}, {5, 16}};
    }

    private static WeightMatrix matrix(SplittableRandom rnd, TensorType type, int rows, int cols) {
        if (type == TensorType.Q5_0 || type == TensorType.Q5_K) {
            return TestMatrices.randomBlocks(rnd, type, rows, cols);
        }
        return TestMatrices.encode(type, TestMatrices.gaussian(rnd, rows * cols, 0.5f), rows, cols);
    }

    /**
     * Every type against a double-precision dot of the Dequant rows. The kernel rounds like a float dot product:
     * |error| <= 1e-5 * sum|w*x| (cols <= 1280 here, so n * 2^-24 < 1e-4 with room; actual error is far smaller); the
     * Q4_0, Q4_K, Q5_K and Q6_K panels' tiles quantize the activations to int8, which may add up to
     * {@link TestMatrices#activationQuantizationBound} (sum |w| times half an activation step).
     */
    @ParameterizedTest
    @EnumSource(TensorType.class)
    void matchesDoublePrecisionReferenceOnDequantizedWeights(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(type.ordinal());
        for (int[] shape : shapes(type)) {
            int rows = shape[0];
            int cols = shape[1];
            WeightMatrix w = matrix(rnd, type, rows, cols);
            int nTokens = 6;
            float[] x = TestMatrices.gaussian(rnd, nTokens * cols, 1f);
            float[] out = new float[nTokens * rows + 3];
            double[] ref = TestMatrices.referenceMatmul(w, x, nTokens);
            double[] abs = TestMatrices.absMatmul(w, x, nTokens);
            for (WeightMatrix m : new WeightMatrix[] {w, w.packed()}) {
                MatMul.matmul(POOL3, m, x, 0, nTokens, out, 3);
                double[] xq = TestMatrices.activationQuantizationBound(m, x, nTokens);
                for (int i = 0; i < ref.length; i++) {
                    assertThat((double) out[3 + i]).as("%s %dx%d element %d packed %s", type, rows, cols, i, m.panels() != null)
                            .isCloseTo(ref[i], org.assertj.core.data.Offset.offset(1e-5 * abs[i] + xq[i] + 1e-30));
                }
            }
        }
    }

    /** Per-element format error bound for weights of magnitude <= amax in the element's block. */
    private static double formatError(TensorType type, float value, float blockAmax) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> Math.abs(value) * 0x1p-11 + 0x1p-25;
            case BF16 -> Math.abs(value) * 0x1p-8;
            // half a step (amax/127/2) plus the f16 rounding of d applied to |q| <= 127
            case Q8_0 -> blockAmax * (0.5 / 127 + 0x1p-11 * 1.01);
            // a step is amax/8; clamping q=16 to 15 at the negative extreme costs a whole step
            case Q4_0 -> blockAmax * (1.0 / 8 + 0x1p-11 * 1.01);
            default -> throw new IllegalArgumentException();
        };
    }

    /**
     * Accuracy against the original float32 weights, within the format's error: sum_c bound(c) * |x_c|, plus the
     * activations' quantization bound where the panels' tiles quantize them (Q4_0).
     */
    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    void staysWithinFormatErrorOfF32(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(100 + type.ordinal());
        int rows = 9;
        int cols = 256;
        float[] values = TestMatrices.gaussian(rnd, rows * cols, 0.1f);
        WeightMatrix f32 = TestMatrices.encode(TensorType.F32, values, rows, cols);
        WeightMatrix w = TestMatrices.encode(type, values, rows, cols);
        float[] x = TestMatrices.gaussian(rnd, cols, 1f);
        float[] out = new float[rows];
        WeightMatrix packed = w.packed();
        MatMul.matvec(packed, x, 0, out, 0);
        double[] exact = TestMatrices.referenceMatmul(f32, x, 1);
        double[] abs = TestMatrices.absMatmul(f32, x, 1);
        double[] xq = TestMatrices.activationQuantizationBound(packed, x, 1);
        for (int r = 0; r < rows; r++) {
            double bound = 1e-5 * abs[r] + xq[r];
            for (int c = 0; c < cols; c++) {
                int b0 = c / 32 * 32;
                float amax = 0;
                for (int j = b0; j < b0 + 32; j++) {
                    amax = Math.max(amax, Math.abs(values[r * cols + j]));
                }
                bound += formatError(type, values[r * cols + c], amax) * Math.abs(x[c]);
            }
            assertThat((double) out[r]).as("%s row %d", type, r).isCloseTo(exact[r], org.assertj.core.data.Offset.offset(bound));
        }
    }

    /** A quantized matmul is the F32 matmul of its dequantized weights, bit for bit (same kernel, same order). */
    @ParameterizedTest
    @EnumSource(TensorType.class)
    void equalsF32MatmulOfDequantizedWeightsExactly(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(7);
        int rows = 11;
        int cols = 512;
        WeightMatrix w = matrix(rnd, type, rows, cols);
        float[] deq = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            Dequant.row(w, r, deq, r * cols);
        }
        WeightMatrix f32 = TestMatrices.encode(TensorType.F32, deq, rows, cols);
        float[] x = TestMatrices.gaussian(rnd, 5 * cols, 1f);
        // 1-3 tokens take the decoding tiles where the type has one, 4 the tiles over decoded rows
        for (int n : new int[] {1, 3, 5}) {
            float[] a = new float[n * rows];
            float[] b = new float[n * rows];
            MatMul.matmul(w, x, 0, n, a, 0);
            MatMul.matmul(f32, x, 0, n, b, 0);
            assertThat(bits(a)).as("%d tokens", n).isEqualTo(bits(b));
        }
    }

    /** Token t's output is bit-identical alone and at every place in batches of 1..65, for any pool size. */
    @ParameterizedTest
    @EnumSource(TensorType.class)
    void batchInvariantBitIdentical(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(11 + type.ordinal());
        // cols a multiple of the vector length (4-token tiles) and, where the type allows, not (1-token tiles only)
        for (int[] shape : shapes(type)) {
            checkBatchInvariance(matrix(rnd, type, shape[0], shape[1]), rnd);
        }
    }

    /**
     * The same over panels (float types), with rows filling whole panels, a partial last panel, and an odd panel count;
     * with 1600 columns, batches past 32 tokens are taken in chunks.
     */
    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"F32", "F16", "BF16"})
    void packedBatchInvariantBitIdentical(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(21 + type.ordinal());
        for (int[] shape : new int[][] {{1, 1}, {7, 37}, {33, 130}, {5, 16}, {2 * VectorMath.L, 64}, {3 * VectorMath.L, 48}, {33, 1600}}) {
            WeightMatrix w = matrix(rnd, type, shape[0], shape[1]).packed();
            assertThat(w.panels()).isNotNull();
            checkBatchInvariance(w, rnd);
        }
    }

    /**
     * Int8 panels compute the F32 panel matmul of the dequantized weights, bit for bit, for every token count, place
     * in the batch and thread split (so they are batch invariant as the F32 panels are): full, partial and odd panels.
     */
    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"Q8_0", "Q5_0"})
    void int8PanelsEqualF32PanelsOfDequantizedWeightsExactly(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(41 + type.ordinal());
        int l = VectorMath.L;
        for (int[] shape : new int[][] {{1, 32}, {7, 96}, {2 * l, 64}, {3 * l, 128}, {2 * l + 3, 160}}) {
            int rows = shape[0];
            int cols = shape[1];
            WeightMatrix w = matrix(rnd, type, rows, cols).packed();
            assertThat(w.panels()).isNotNull();
            float[] deq = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                Dequant.row(w, r, deq, r * cols);
            }
            WeightMatrix f32 = TestMatrices.encode(TensorType.F32, deq, rows, cols).packed();
            int maxTokens = 21;
            float[] x = TestMatrices.gaussian(rnd, maxTokens * cols, 1f);
            WorkerPool[] pools = {new WorkerPool(1), new WorkerPool(2), POOL3};
            for (int n = 1; n <= maxTokens; n++) {
                int first = (n * 5) % (maxTokens - n + 1);
                float[] a = new float[n * rows];
                float[] b = new float[n * rows];
                MatMul.matmul(pools[n % pools.length], w, x, first * cols, n, a, 0);
                MatMul.matmul(POOL3, f32, x, first * cols, n, b, 0);
                assertThat(bits(a)).as("%s %dx%d, %d tokens", type, rows, cols, n).isEqualTo(bits(b));
            }
            checkBatchInvariance(w, rnd);
        }
    }

    /**
     * Q6_K's, Q4_K's, Q5_K's and Q4_0's panels (int8 activations; scales, and the mins, applied per group to sums over its columns, so
     * not bit for bit the F32 matmul of the dequantized weights) stay within the double-precision bound plus the
     * activations' quantization bound for every token count and are batch invariant: full, partial and odd panels,
     * several super-blocks.
     */
    @ParameterizedTest
    @EnumSource(value = TensorType.class, names = {"Q6_K", "Q4_K", "Q5_K", "Q4_0"})
    void kQuantPanelsBatchInvariant(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(51 + type.ordinal());
        int l = VectorMath.L;
        for (int[] shape : new int[][] {{1, 256}, {7, 512}, {2 * l, 256}, {3 * l, 768}, {2 * l + 3, 256}}) {
            int rows = shape[0];
            int cols = shape[1];
            WeightMatrix raw = type == TensorType.Q4_K && (rows & 1) == 1 ? TestMatrices.randomBlocks(rnd, type, rows, cols) : matrix(rnd, type, rows, cols);
            WeightMatrix w = raw.packed();
            assertThat(w.panels()).isNotNull();
            int maxTokens = 13;
            float[] x = TestMatrices.gaussian(rnd, maxTokens * cols, 1f);
            double[] ref = TestMatrices.referenceMatmul(w, x, maxTokens);
            double[] abs = TestMatrices.absMatmul(w, x, maxTokens);
            double[] xq = TestMatrices.activationQuantizationBound(w, x, maxTokens);
            for (int n = 1; n <= maxTokens; n++) {
                float[] a = new float[n * rows];
                MatMul.matmul(POOL3, w, x, 0, n, a, 0);
                for (int i = 0; i < a.length; i++) {
                    assertThat((double) a[i]).as("%s %dx%d, %d tokens, element %d", type, rows, cols, n, i)
                            .isCloseTo(ref[i], org.assertj.core.data.Offset.offset(1e-5 * abs[i] + xq[i] + 1e-30));
                }
            }
            checkBatchInvariance(w, rnd);
        }
    }

    /** Repacking keeps every element: the packed matmul equals the double-precision reference as closely as the rows' (checked above) and one-hot activations pick exact weights. */
    @ParameterizedTest
    @EnumSource(TensorType.class)
    void packedOneHotReadsEveryWeightExactly(TensorType type) {
        SplittableRandom rnd = new SplittableRandom(31);
        int rows = 2 * VectorMath.L + 3;
        int cols = type.isQuantized() ? Math.max(64, type.blockSize) : 19;
        WeightMatrix w = matrix(rnd, type, rows, cols);
        WeightMatrix p = w.packed();
        float[] x = new float[cols * cols];
        for (int c = 0; c < cols; c++) {
            x[c * cols + c] = 1f;
        }
        float[] out = new float[cols * rows];
        MatMul.matmul(POOL3, p, x, 0, cols, out, 0);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Dequant.row(w, r, row, 0);
            for (int c = 0; c < cols; c++) {
                assertThat(out[c * rows + r]).as("row %d col %d", r, c).isEqualTo(row[c]);
            }
        }
    }

    /**
     * F16 panels widen every finite half exactly (their tiles' shift, mask and multiply): a matrix holding all 63,488
     * finite halves, subnormals and zeros included, read back through one-hot activations. A matrix with an Inf or a
     * NaN, which that widening would not keep, stays unpacked and runs the row path, exact.
     */
    @Test
    void f16PanelsWidenEveryFiniteHalfExactly() {
        int cols = 64;
        int rows = 2 * 31744 / cols;
        MemorySegment halves = MemorySegment.ofArray(new short[rows * cols]);
        for (int i = 0; i < rows * cols; i++) {
            int magnitude = i >> 1;  // 0 .. 0x7BFF: every exponent below all ones, every mantissa
            halves.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) ((i & 1) << 15 | magnitude));
        }
        WeightMatrix w = new WeightMatrix("all-halves", TensorType.F16, halves, rows, cols).packed();
        assertThat(w.panels()).isNotNull();
        float[] x = new float[cols * cols];
        for (int c = 0; c < cols; c++) {
            x[c * cols + c] = 1f;
        }
        float[] out = new float[cols * rows];
        for (int n : new int[] {1, cols}) {  // the single-token tile and the batched ones
            for (int t = 0; t < cols; t += n) {
                MatMul.matmul(POOL3, w, x, t * cols, n, out, t * rows);
            }
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    float want = Float.float16ToFloat(halves.getAtIndex(ValueLayout.JAVA_SHORT, r * cols + c));
                    assertThat(out[c * rows + r] == want).as("%d tokens, half %d: %s != %s", n, r * cols + c, out[c * rows + r], want).isTrue();
                }
            }
        }
        for (short special : new short[] {(short) 0x7C00, (short) 0xFC00, (short) 0x7E00}) {
            halves.setAtIndex(ValueLayout.JAVA_SHORT, 77, special);
            WeightMatrix f16 = new WeightMatrix("special", TensorType.F16, halves, rows, cols);
            assertThat(f16.packed().panels()).isNull();
            float[] deq = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                Dequant.row(f16, r, deq, r * cols);
            }
            float[] a = new float[3 * rows];
            float[] b = new float[3 * rows];
            MatMul.matmul(POOL3, f16.packed(), x, 0, 3, a, 0);
            MatMul.matmul(POOL3, TestMatrices.encode(TensorType.F32, deq, rows, cols), x, 0, 3, b, 0);
            for (int i = 0; i < a.length; i++) {
                assertThat(Float.floatToIntBits(a[i])).as("special %04x, output %d", special, i).isEqualTo(Float.floatToIntBits(b[i]));
            }
        }
    }

    private static void checkBatchInvariance(WeightMatrix w, SplittableRandom rnd) {
        TensorType type = w.type();
        int rows = w.rows();
        int cols = w.cols();
        int maxTokens = 65;
        float[] x = TestMatrices.gaussian(rnd, maxTokens * cols, 1f);
        float[] alone = new float[maxTokens * rows];
        WorkerPool single = new WorkerPool(1);
        for (int t = 0; t < maxTokens; t++) {
            MatMul.matmul(single, w, x, t * cols, 1, alone, t * rows);
        }
        WorkerPool[] pools = {single, new WorkerPool(2), POOL3};
        for (int n = 1; n <= maxTokens; n++) {
            int first = (n * 7) % (maxTokens - n + 1);  // batches start at varying tokens
            float[] batch = new float[n * rows];
            MatMul.matmul(pools[n % pools.length], w, x, first * cols, n, batch, 0);
            for (int t = 0; t < n; t++) {
                for (int r = 0; r < rows; r++) {
                    int got = Float.floatToRawIntBits(batch[t * rows + r]);
                    int want = Float.floatToRawIntBits(alone[(first + t) * rows + r]);
                    if (got != want) {
                        throw new AssertionError(type + " batch " + n + " token " + t + " row " + r + ": "
                                + batch[t * rows + r] + " != " + alone[(first + t) * rows + r]);
                    }
                }
            }
        }
    }

    @Test
    void rejectsArraysTooSmall() {
        WeightMatrix w = TestMatrices.encode(TensorType.F32, new float[6], 2, 3);
        assertThatThrownBy(() -> MatMul.matmul(w, new float[5], 0, 2, new float[4], 0))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> MatMul.matmul(w, new float[6], 0, 2, new float[3], 0))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
