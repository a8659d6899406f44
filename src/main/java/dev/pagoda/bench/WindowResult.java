package dev.pagoda.bench;

import dev.pagoda.bench.SharingResult.BlockUsage;
import dev.pagoda.bench.SharingResult.Capacity;

/**
 * A {@link WindowBench} comparison: the paged allocator keeping every block against releasing those out of the
 * sliding window.
 *
 * @param window         the sliding window of every layer, in tokens
 * @param bytesPerBlock  bytes of one KV block of the model shape (all layers, K and V)
 * @param kept           equal work: the blocks the live sequences of the run with release would hold at each of its
 *                       steps if every block were kept (ceil(length / B) each)
 * @param released       the blocks in use in the run with release, during each step (before its releases)
 * @param capacityKept   the run keeping every block, alone in the KV budget
 * @param capacityReleased the run with release, in the same KV budget
 */
public record WindowResult(int window, long bytesPerBlock, BlockUsage kept, BlockUsage released, Capacity capacityKept,
                           Capacity capacityReleased) {

    /** 1 - mean blocks with release / mean blocks kept, over the steps of the run with release. */
    public double savedFraction() {
        return kept.meanBlocks() == 0 ? 0 : 1 - released.meanBlocks() / kept.meanBlocks();
    }

    /** 1 - peak blocks with release / peak blocks kept, over the steps of the run with release. */
    public double peakSavedFraction() {
        return kept.peakBlocks() == 0 ? 0 : 1 - (double) released.peakBlocks() / kept.peakBlocks();
    }
}
