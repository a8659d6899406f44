package dev.pagoda.kernel;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/** Random weights and activations for kernel tests. */
final class TestMatrices {
    private TestMatrices() {
    }

    static float[] gaussian(SplittableRandom rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian() * scale;
        }
        return v;
    }

    /** A rows x cols matrix of the given type encoded from {@code values} (row-major float32). */
    static WeightMatrix encode(TensorType type, float[] values, int rows, int cols) {
        byte[] bytes = Quantize.encode(type, values);
        return new WeightMatrix("test-" + type, type, MemorySegment.ofArray(bytes), rows, cols);
    }

    /** Random blocks of a type without an encoder: random bytes, with the f16 scales set to small normal values. */
    static WeightMatrix randomBlocks(SplittableRandom rnd, TensorType type, int rows, int cols) {
        byte[] bytes = new byte[Math.toIntExact(rows * type.bytesFor(cols))];
        rnd.nextBytes(bytes);
        MemorySegment s = MemorySegment.ofArray(bytes);
        for (long b = 0; b < bytes.length; b += type.bytesPerBlock) {
            switch (type) {
                case Q4_K, Q5_K -> {
                    s.set(Dequant.SHORT, b, Float.floatToFloat16(0.001f + (float) rnd.nextDouble() * 0.01f));
                    s.set(Dequant.SHORT, b + 2, Float.floatToFloat16((float) rnd.nextDouble() * 0.01f));
                }
                case Q6_K -> s.set(Dequant.SHORT, b + 208, Float.floatToFloat16(0.001f + (float) rnd.nextDouble() * 0.01f));
                case Q5_0 -> s.set(Dequant.SHORT, b, Float.floatToFloat16(0.001f + (float) rnd.nextDouble() * 0.01f));
                default -> throw new IllegalArgumentException(type + " has an encoder");
            }
        }
        return new WeightMatrix("test-" + type, type, s, rows, cols);
    }

    /** out[t*rows + r] = sum_c dequant(w)[r][c] * x[t*cols + c], in double. */
    static double[] referenceMatmul(WeightMatrix w, float[] x, int nTokens) {
        return matmul(w, x, nTokens, false);
    }

    /** Sum over c of |dequant(w)[r][c] * x[t][c]|: the scale of rounding error in a float dot product. */
    static double[] absMatmul(WeightMatrix w, float[] x, int nTokens) {
        return matmul(w, x, nTokens, true);
    }

    /**
     * What quantizing the activations to int8 may change in out[t*rows + r] for the tiles that do ({@link Int8Activations}:
     * Q4_0, Q4_K, Q5_K and Q6_K panels; 0 for other matrices): each activation moves by at most half its block's step, the least power
     * of two s with max|x| / s <= 127 over the block's 32 columns, so the dot product by at most sum_c |dequant(w)[r][c]| * s/2.
     */
    static double[] activationQuantizationBound(WeightMatrix w, float[] x, int nTokens) {
        int cols = w.cols();
        double[] halfStep = new double[nTokens * cols];
        if (w.panels() != null && (Q4_0Panels.supports(w.type()) || Q4KPanels.supports(w.type()) || Q6KPanels.supports(w.type()))) {
            for (int k = 0; k < halfStep.length; k += Int8Activations.BLOCK) {
                double amax = 0;
                for (int c = k; c < k + Int8Activations.BLOCK; c++) {
                    amax = Math.max(amax, Math.abs(x[c]));
                }
                double step = 0x1p-149;
                while (amax / step > 127) {
                    step *= 2;
                }
                java.util.Arrays.fill(halfStep, k, k + Int8Activations.BLOCK, step / 2);
            }
        }
        return matmul(w, halfStep, nTokens, true);
    }

    private static double[] matmul(WeightMatrix w, float[] x, int nTokens, boolean absolute) {
        double[] wide = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            wide[i] = x[i];
        }
        return matmul(w, wide, nTokens, absolute);
    }

    private static double[] matmul(WeightMatrix w, double[] x, int nTokens, boolean absolute) {
        int rows = w.rows();
        int cols = w.cols();
        double[] out = new double[nTokens * rows];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Dequant.row(w, r, row, 0);
            for (int t = 0; t < nTokens; t++) {
                double s = 0;
                for (int c = 0; c < cols; c++) {
                    double p = row[c] * x[t * cols + c];
                    s += absolute ? Math.abs(p) : p;
                }
                out[t * rows + r] = s;
            }
        }
        return out;
    }
}
