package dev.pagoda.kernel;

/**
 * Weights rewritten once at load into the layouts the kernels stream ({@link WeightMatrix#packed}): F32, F16 and BF16
 * into {@link RowPanels}, Q8_0 and Q5_0 into {@link Int8Panels}, Q4_0 into {@link Q4_0Panels}, Q6_K into {@link Q6KPanels},
 * Q4_K and Q5_K into {@link Q4KPanels}; without the Vector API (or with vectors of other than 16 floats for the
 * K-quant and Q4_0 layouts) a type is used as it is. The copy lives off-heap beside the mapped file; bits per weight:
 * Q8_0 8.5 -> 9, Q5_0 5.5 -> 9, Q4_0 4.5 -> 5, Q6_K 6.56 -> 8.625, Q4_K 4.5 -> 4.75, Q5_K 5.5 -> 5.75.
 */
public final class Repack {
    private Repack() {
    }

    /** {@code m} with its kernel layout ({@link WeightMatrix#packed}), or {@code m} itself for the types used as they are. */
    public static WeightMatrix forKernels(WeightMatrix m) {
        return m.packed();
    }
}
