package dev.pagoda.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float species the kernels use, a lane sum with a fixed order and an exponential with fixed operations. {@code reduceLanes(ADD)} is avoided on
 * purpose: its float order is unspecified and may differ between the interpreter and compiled code, which
 * would break bit-identical results. Here lanes are folded pairwise (i + L/2, then i + L/4, ...).
 */
public final class VectorMath {
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    public static final int L = F.length();
    private static final VectorShuffle<Float> FOLD_8 = L >= 16 ? fold(8) : null;
    private static final VectorShuffle<Float> FOLD_4 = L >= 8 ? fold(4) : null;
    private static final VectorShuffle<Float> FOLD_2 = L >= 4 ? fold(2) : null;
    private static final VectorShuffle<Float> FOLD_1 = L >= 2 ? fold(1) : null;
    private static final float LOG2_E = 1.4426950408889634f;
    private static final float ROUND = 12582912f;
    /** ln 2 split so that n * LN2_HIGH is exact for |n| < 2^8. */
    private static final float LN2_HIGH = 0.693145751953125f;
    private static final float LN2_LOW = (float) (Math.log(2) - LN2_HIGH);

    static {
        if (L > 16) {
            throw new IllegalStateException("unsupported vector length " + L);
        }
    }

    private VectorMath() {
    }

    private static VectorShuffle<Float> fold(int distance) {
        return VectorShuffle.fromOp(F, i -> i ^ distance);
    }

    /** Sum of all lanes in a fixed pairwise order (lane 0 of the folded vector). */
    public static float sum(FloatVector v) {
        if (L >= 16) {
            v = v.add(v.rearrange(FOLD_8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(FOLD_4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(FOLD_2));
        }
        if (L >= 2) {
            v = v.add(v.rearrange(FOLD_1));
        }
        return v.lane(0);
    }

    /**
     * {@link #sum(FloatVector)} of the L floats at a[off..]: the same folds in the same order. For callers in large
     * compiled kernels: no vector crosses this call, so when C2 runs out of inlining budget and leaves it a call,
     * nothing is boxed (a vector passed to a call that is not inlined is a heap object per call).
     */
    public static float sum(float[] a, int off) {
        FloatVector v = FloatVector.fromArray(F, a, off);
        if (L >= 16) {
            v = v.add(v.rearrange(FOLD_8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(FOLD_4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(FOLD_2));
        }
        if (L >= 2) {
            v = v.add(v.rearrange(FOLD_1));
        }
        return v.lane(0);
    }

    /**
     * e^x lane by lane, x clamped to [-87, 88] (near the smallest normal float and the largest power of two below
     * the largest float): x = n ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor polynomial of degree 7 (error under
     * 1e-8 relative), times 2^n built in the exponent bits. Only adds, multiplies, FMAs and bit moves, each rounded
     * as IEEE says, so the result is the same bits compiled or interpreted, whatever lane an element is in
     * (Math.exp per lane could differ from a vector library's). Callers must be inlined (it takes a vector).
     */
    public static FloatVector exp(FloatVector x) {
        x = x.max(-87f).min(88f);
        // 1.5 * 2^23 added rounds x log2(e) to an integer n, left in the low bits of t.
        FloatVector t = x.fma(LOG2_E, ROUND);
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_LOW), n.fma(FloatVector.broadcast(F, -LN2_HIGH), x));
        // e^r = sum of r^k / k! for k <= 7, by Horner's rule
        FloatVector p = r.fma(1f / 5040, 1f / 720);
        p = p.fma(r, FloatVector.broadcast(F, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(F, 0.5f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        FloatVector twoToN = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND) - 127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return p.mul(twoToN);
    }
}
