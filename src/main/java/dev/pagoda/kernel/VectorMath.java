package dev.pagoda.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float species the kernels use and a lane sum with a fixed order. {@code reduceLanes(ADD)} is avoided on
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
}
