package dev.pagoda.scheduler;

import dev.pagoda.PagodaException;

/**
 * Limits of one scheduling step.
 *
 * @param maxNumSeqs          sequences running at once
 * @param maxNumBatchedTokens tokens computed in one step, over all sequences (prefill chunks included)
 * @param preemptionMode      what happens to a sequence evicted when blocks run out
 * @param watermark           fraction of KV blocks kept free when admitting new sequences (paged layout), so
 *                            that running sequences can grow without being preempted at once
 */
public record SchedulerConfig(int maxNumSeqs, int maxNumBatchedTokens, PreemptionMode preemptionMode, double watermark) {
    public SchedulerConfig {
        if (maxNumSeqs < 1) {
            throw new PagodaException("--max-num-seqs must be at least 1, got " + maxNumSeqs);
        }
        if (maxNumBatchedTokens < 1) {
            throw new PagodaException("--max-num-batched-tokens must be at least 1, got " + maxNumBatchedTokens);
        }
        if (!(watermark >= 0 && watermark < 1)) {
            throw new PagodaException("watermark must be in [0, 1), got " + watermark);
        }
    }
}
