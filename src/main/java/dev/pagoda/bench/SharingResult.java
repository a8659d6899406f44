package dev.pagoda.bench;

import dev.pagoda.kv.PrefixCacheStats;

/**
 * A {@link SharingBench} comparison.
 *
 * @param sharing          what was shared
 * @param maxNumSeqs       most sequences running at once in both runs
 * @param without          equal work: the KV blocks that the live sequences of the run with sharing would hold at
 *                         each of its steps without sharing (each a private copy of all its tokens)
 * @param with             the KV blocks in use in the run with sharing
 * @param capacityWithout  the run without sharing, alone in the KV budget
 * @param capacityWith     the run with sharing, in the same KV budget
 * @param prefixCache      prefix-cache counters of the run with sharing (all 0 unless prefix caching)
 */
public record SharingResult(BlockSharing sharing, int maxNumSeqs, BlockUsage without, BlockUsage with,
                            Capacity capacityWithout, Capacity capacityWith, PrefixCacheStats prefixCache) {

    /**
     * KV blocks in use, over every step of one schedule.
     *
     * @param meanBlocks     mean over steps of the blocks in use (held by at least one sequence)
     * @param peakBlocks     most blocks in use at one step
     * @param meanTokenSlots mean over steps of the slots holding a token's K/V (a shared slot counts once; without
     *                       sharing, the sum of the sequences' lengths)
     */
    public record BlockUsage(double meanBlocks, int peakBlocks, double meanTokenSlots) {
    }

    /**
     * How many requests a run kept in the KV budget.
     *
     * @param requestsFit    mean requests running at once, over the steps in which some request was waiting
     *                       (over all steps if none was)
     * @param requestsFitMax most requests running at once
     * @param preemptions    requests preempted (all their sequences freed, to be recomputed)
     * @param steps          steps to finish every request
     */
    public record Capacity(double requestsFit, int requestsFitMax, int preemptions, int steps) {
    }

    /**
     * The paper's memory saving at equal work: blocks saved by sharing over blocks used without it, summed over
     * the steps of the run with sharing, i.e. 1 - mean blocks with sharing / mean blocks without.
     */
    public double savedFraction() {
        return without.meanBlocks() == 0 ? 0 : 1 - with.meanBlocks() / without.meanBlocks();
    }

    /** 1 - peak blocks with sharing / peak blocks without, over the steps of the run with sharing. */
    public double peakSavedFraction() {
        return without.peakBlocks() == 0 ? 0 : 1 - (double) with.peakBlocks() / without.peakBlocks();
    }
}
