package dev.pagoda.engine;

import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.PrefixCacheStats;
import dev.pagoda.scheduler.ScheduledBatch;
import dev.pagoda.scheduler.Scheduler;
import java.util.EnumMap;
import java.util.Map;

/** Counters of the engine, updated by the engine thread only; read through {@link #snapshot}. */
public final class EngineStats {
    long requestsAdded;
    long steps;
    long promptTokens;
    long generationTokens;
    long batchedTokens;
    long runningSum;
    int peakRunning;
    int peakBlocksUsed;
    long decodeSteps;
    /** Upper bounds of the tokens-per-step histogram (vLLM's iteration_tokens_total buckets). */
    public static final double[] ITERATION_TOKEN_BOUNDS = {1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
    private final long[] iterationTokens = new long[ITERATION_TOKEN_BOUNDS.length];
    long decodeStepTokens;
    long decodeStepNanos;
    final Map<FinishReason, Long> finished = new EnumMap<>(FinishReason.class);

    /**
     * @param meanRunning mean number of running sequences per step
     * @param swapEmpty   whether the swap space holds nothing (true without one)
     * @param peakBlocksUsed the most KV blocks in use after any step (paged layout)
     * @param prefixQueriedTokens prompt tokens looked up in the prefix cache (vLLM prefix_cache_queries_total)
     * @param prefixHitTokens     of those, tokens served by cached blocks (prefix_cache_hits_total)
     * @param prefixCachedBlocks  blocks holding a cached prefix (in use or free, until evicted)
     * @param decodeSteps         steps that only decoded (one token per running sequence)
     * @param decodeStepTokens    tokens computed in those steps
     * @param decodeStepNanos     wall time of those steps (model, sampling and bookkeeping)
     * @param iterationTokensCumulative steps with at most {@link #ITERATION_TOKEN_BOUNDS}[i] tokens (count: steps, sum: batchedTokens)
     */
    public record Snapshot(long requestsAdded, long steps, long promptTokens, long generationTokens, long batchedTokens,
                           double meanRunning, int peakRunning, long recomputePreemptions, long swapPreemptions,
                           int running, int waiting, int swapped, boolean swapEmpty, int peakBlocksUsed,
                           long prefixQueriedTokens, long prefixHitTokens, int prefixCachedBlocks, long decodeSteps, long decodeStepTokens,
                           long decodeStepNanos, long[] iterationTokensCumulative, Map<FinishReason, Long> finished) {
        /** Tokens per second over steps in which every sequence decoded one token (no prefill mixed in). */
        public double decodeTokensPerSecond() {
            return decodeStepNanos == 0 ? 0 : decodeStepTokens * 1e9 / decodeStepNanos;
        }

        public long preemptions() {
            return recomputePreemptions + swapPreemptions;
        }
    }

    void onStep(ScheduledBatch<?> b, int running, int blocksUsed) {
        steps++;
        for (int i = 0; i < ITERATION_TOKEN_BOUNDS.length; i++) {
            if (b.totalTokens() <= ITERATION_TOKEN_BOUNDS[i]) {
                iterationTokens[i]++;
            }
        }
        peakBlocksUsed = Math.max(peakBlocksUsed, blocksUsed);
        batchedTokens += b.totalTokens();
        for (int i = 0; i < b.size(); i++) {
            int promptLeft = b.sequence(i).promptLength() - b.sequence(i).computed();
            promptTokens += Math.max(0, Math.min(promptLeft, b.count(i)));
        }
        runningSum += running;
        peakRunning = Math.max(peakRunning, running);
    }

    /** A step's wall time, counted when it only decoded. */
    void onStepTime(ScheduledBatch<?> b, long nanos) {
        if (b.totalTokens() == b.size()) {
            decodeSteps++;
            decodeStepTokens += b.size();
            decodeStepNanos += nanos;
        }
    }

    void onFinish(FinishReason reason) {
        finished.merge(reason, 1L, Long::sum);
    }

    Snapshot snapshot(Scheduler<?> s, KvAllocator allocator) {
        PrefixCacheStats cache = allocator.prefixCacheStats();
        boolean swapEmpty = allocator.swapSpace() == null || allocator.swapSpace().isEmpty();
        return new Snapshot(requestsAdded, steps, promptTokens, generationTokens, batchedTokens,
                steps == 0 ? 0 : (double) runningSum / steps, peakRunning, s.recomputePreemptions(), s.swapPreemptions(),
                s.numRunning(), s.numWaiting(), s.numSwapped(), swapEmpty, peakBlocksUsed,
                cache.queriedTokens(), cache.hitTokens(), cache.cachedBlocks(),
                decodeSteps, decodeStepTokens,
                decodeStepNanos, iterationTokens.clone(), Map.copyOf(finished));
    }
}
