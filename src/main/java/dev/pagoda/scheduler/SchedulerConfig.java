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
 * @param growthRoom          admission also keeps one free block per running sequence that will outgrow the
 *                            blocks it holds: otherwise, with many short requests waiting, each step admits into
 *                            the blocks the running ones need next, and the next step preempts the newcomers
 *                            again (thrash); false: vLLM's admission, the watermark alone
 */
public record SchedulerConfig(int maxNumSeqs, int maxNumBatchedTokens, PreemptionMode preemptionMode, double watermark,
                              boolean growthRoom) {
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
