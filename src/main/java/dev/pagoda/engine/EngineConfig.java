package dev.pagoda.engine;

import dev.pagoda.PagodaException;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvShape;
import dev.pagoda.scheduler.PreemptionMode;

/**
 * Engine options, with vLLM's names on the command line.
 *
 * @param blockSize            tokens per KV block (1..256)
 * @param kvCacheMemory        bytes of the KV cache region; 0 picks a quarter of free memory, capped at
 *                             what maxNumSeqs sequences of maxModelLen tokens can use
 * @param kvDtype              element type of cached K/V
 * @param kvLayout             paged (PagedAttention) or contiguous (the reservation baseline)
 * @param maxNumSeqs           sequences running at once
 * @param maxNumBatchedTokens  tokens computed per step (prefills are chunked to it)
 * @param maxModelLen          longest sequence (prompt + output); 0 = the model's context length
 * @param preemptionMode       recompute or swap
 * @param swapSpace            bytes of the swap area (used with preemption mode swap)
 * @param enablePrefixCaching  reuse cached full blocks of earlier prompts
 * @param growthRoom           admission keeps a free block per running sequence that will need one
 *                             ({@link dev.pagoda.scheduler.SchedulerConfig#growthRoom}); false: vLLM's admission
 */
public record EngineConfig(int blockSize, long kvCacheMemory, KvDtype kvDtype, KvLayout kvLayout, int maxNumSeqs,
                           int maxNumBatchedTokens, int maxModelLen, PreemptionMode preemptionMode, long swapSpace,
                           boolean enablePrefixCaching, boolean growthRoom) {
    public static final double WATERMARK = 0.01;

    public EngineConfig {
        KvShape.checkBlockSize(blockSize);
        if (kvCacheMemory < 0) {
            throw new PagodaException("--kv-cache-memory must not be negative");
        }
        if (maxNumSeqs < 1) {
            throw new PagodaException("--max-num-seqs must be at least 1, got " + maxNumSeqs);
        }
        if (maxNumBatchedTokens < 1) {
            throw new PagodaException("--max-num-batched-tokens must be at least 1, got " + maxNumBatchedTokens);
        }
        if (maxModelLen < 0) {
            throw new PagodaException("--max-model-len must be positive, got " + maxModelLen);
        }
        if (swapSpace < 0) {
            throw new PagodaException("--swap-space must not be negative");
        }
    }

    public static EngineConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.blockSize = blockSize;
        b.kvCacheMemory = kvCacheMemory;
        b.kvDtype = kvDtype;
        b.kvLayout = kvLayout;
        b.maxNumSeqs = maxNumSeqs;
        b.maxNumBatchedTokens = maxNumBatchedTokens;
        b.maxModelLen = maxModelLen;
        b.preemptionMode = preemptionMode;
        b.swapSpace = swapSpace;
        b.enablePrefixCaching = enablePrefixCaching;
        b.growthRoom = growthRoom;
        return b;
    }

    /** Defaults: block size 16, automatic KV memory, f32, paged, 64 sequences, 512 tokens per step, recompute, 1 GiB swap, prefix caching on. */
    public static final class Builder {
        private int blockSize = KvShape.DEFAULT_BLOCK_SIZE;
        private long kvCacheMemory;
        private KvDtype kvDtype = KvDtype.F32;
        private KvLayout kvLayout = KvLayout.PAGED;
        private int maxNumSeqs = 64;
        private int maxNumBatchedTokens = 512;
        private int maxModelLen;
        private PreemptionMode preemptionMode = PreemptionMode.RECOMPUTE;
        private long swapSpace = 1L << 30;
        private boolean enablePrefixCaching = true;
        private boolean growthRoom = true;

        public Builder blockSize(int v) { blockSize = v; return this; }
        public Builder kvCacheMemory(long v) { kvCacheMemory = v; return this; }
        public Builder kvDtype(KvDtype v) { kvDtype = v; return this; }
        public Builder kvLayout(KvLayout v) { kvLayout = v; return this; }
        public Builder maxNumSeqs(int v) { maxNumSeqs = v; return this; }
        public Builder maxNumBatchedTokens(int v) { maxNumBatchedTokens = v; return this; }
        public Builder maxModelLen(int v) { maxModelLen = v; return this; }
        public Builder preemptionMode(PreemptionMode v) { preemptionMode = v; return this; }
        /** By name: "recompute" or "swap" (a clear error otherwise). */
        public Builder preemptionMode(String name) { return preemptionMode(PreemptionMode.parse(name)); }
        public Builder swapSpace(long v) { swapSpace = v; return this; }
        public Builder enablePrefixCaching(boolean v) { enablePrefixCaching = v; return this; }
        public Builder growthRoom(boolean v) { growthRoom = v; return this; }

        public EngineConfig build() {
            return new EngineConfig(blockSize, kvCacheMemory, kvDtype, kvLayout, maxNumSeqs, maxNumBatchedTokens, maxModelLen,
                    preemptionMode, swapSpace, enablePrefixCaching, growthRoom);
        }
    }
}
