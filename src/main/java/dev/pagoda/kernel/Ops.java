package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;
import static dev.pagoda.kernel.VectorMath.sum;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Element-wise and reduction kernels of the transformer block, in float32 like llama2.c's run.c.
 * Sums use a fixed order (L-lane accumulators folded by {@link VectorMath#sum}, then the tail in index order),
 * so results are deterministic. Exponentials use {@link Math#exp} on each element (the Vector API's EXP may
 * round differently between compiled and interpreted code), or {@link VectorMath#exp} where there are many.
 */
public final class Ops {
    private Ops() {
    }

    /** {@code out = x / sqrt(mean(x^2) + eps) * weight} over n elements; out may alias x. */
    public static void rmsnorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int n, float eps) {
        float ss = sumOfProducts(x, xOff, x, xOff, n);
        ss = ss / n + eps;
        float inv = 1f / (float) Math.sqrt(ss);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, x, xOff + i).mul(inv).mul(FloatVector.fromArray(F, weight, i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            out[outOff + i] = weight[i] * (inv * x[xOff + i]);
        }
    }

    /** Dot product of n elements. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return sumOfProducts(a, aOff, b, bOff, n);
    }

    private static float sumOfProducts(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float s = sum(acc);
        for (; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /** {@code y += a * x} (fused multiply-add per element). */
    public static void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, x, xOff + i).fma(FloatVector.broadcast(F, a), FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] = Math.fma(x[xOff + i], a, y[yOff + i]);
        }
    }

    /** {@code y += x} (the residual connection). */
    public static void add(float[] y, int yOff, float[] x, int xOff, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(F, y, yOff + i).add(FloatVector.fromArray(F, x, xOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += x[xOff + i];
        }
    }

    /** SwiGLU's gate: {@code gate = silu(gate) * up}, silu(g) = g / (1 + e^-g). */
    public static void siluMul(float[] gate, int gOff, float[] up, int uOff, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i);
            g.div(VectorMath.exp(g.neg()).add(1f)).mul(FloatVector.fromArray(F, up, uOff + i)).intoArray(gate, gOff + i);
        }
        if (i < n) {
            // the same operations lane by lane: an element's bits do not depend on where it lies
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector g = FloatVector.fromArray(F, gate, gOff + i, m);
            g.div(VectorMath.exp(g.neg()).add(1f)).mul(FloatVector.fromArray(F, up, uOff + i, m)).intoArray(gate, gOff + i, m);
        }
    }

    /**
     * GeGLU's gate: {@code gate = gelu(gate) * up} with the tanh approximation
     * gelu(g) = g/2 * (1 + tanh(sqrt(2/pi) * (g + 0.044715 g^3))). {@link StrictMath#tanh}: the same bits whether
     * interpreted or compiled.
     */
    public static void geluTanhMul(float[] gate, int gOff, float[] up, int uOff, int n) {
        final float c = (float) Math.sqrt(2 / Math.PI);
        for (int i = 0; i < n; i++) {
            float g = gate[gOff + i];
            g = 0.5f * g * (1f + (float) StrictMath.tanh(c * (g + 0.044715f * g * g * g)));
            gate[gOff + i] = g * up[uOff + i];
        }
    }

    /** Soft-capping: {@code x = cap * tanh(x / cap)} for n elements (Gemma 2's logits). */
    public static void softCap(float[] x, int off, int n, float cap) {
        for (int i = off; i < off + n; i++) {
            x[i] = cap * (float) StrictMath.tanh(x[i] / cap);
        }
    }

    /** {@code x *= a} for n elements. */
    public static void scale(float[] x, int off, int n, float a) {
        for (int i = off; i < off + n; i++) {
            x[i] *= a;
        }
    }

    /** In-place softmax of n elements: exp(x - max) / sum, the sum taken in index order. */
    public static void softmax(float[] x, int off, int n) {
        float max = x[off];
        for (int i = 1; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        for (int i = 0; i < n; i++) {
            x[off + i] /= sum;
        }
    }

    /**
     * Index (relative to off) of the largest of n elements; the lowest index wins ties (-0 and +0 tie). Two vector
     * passes, the maximum then its first index: a greedy draw reads a whole vocabulary per sequence. With a NaN among
     * them, the scalar scan's answer (NaNs never beat an earlier element; a NaN first element wins).
     */
    public static int argmax(float[] x, int off, int n) {
        int bound = F.loopBound(n);
        float max = x[off];
        int i = 0;
        if (bound > 0) {
            FloatVector m = FloatVector.fromArray(F, x, off);
            for (i = L; i < bound; i += L) {
                m = m.max(FloatVector.fromArray(F, x, off + i));
            }
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        if (Float.isNaN(max)) {
            return scanArgmax(x, off, n);
        }
        for (i = 0; i < bound; i += L) {
            VectorMask<Float> eq = FloatVector.fromArray(F, x, off + i).eq(max);
            if (eq.anyTrue()) {
                return i + eq.firstTrue();
            }
        }
        while (x[off + i] != max) {
            i++;
        }
        return i;
    }

    private static int scanArgmax(float[] x, int off, int n) {
        int best = 0;
        float bestValue = x[off];
        for (int i = 1; i < n; i++) {
            if (x[off + i] > bestValue) {
                bestValue = x[off + i];
                best = i;
            }
        }
        return best;
    }
}
