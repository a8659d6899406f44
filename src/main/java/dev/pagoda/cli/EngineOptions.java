package dev.pagoda.cli;

import dev.pagoda.engine.EngineConfig;
import dev.pagoda.kv.ByteSize;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvLayout;
import picocli.CommandLine.Option;

/** The engine's options, shared by generate, serve and the benchmarks (vLLM's names). */
final class EngineOptions {
    @Option(names = "--block-size", defaultValue = "16", description = "Tokens per KV block, 1..256 (default: ${DEFAULT-VALUE}).")
    int blockSize;

    @Option(names = "--kv-cache-memory", paramLabel = "BYTES", description = "KV cache size, e.g. 512MiB, 2GiB (default: a quarter of free memory, at most what --max-num-seqs full-length sequences use).")
    String kvCacheMemory;

    @Option(names = "--kv-cache-dtype", defaultValue = "f32", description = "f32, f16 or bf16 (default: ${DEFAULT-VALUE}).")
    String kvCacheDtype;

    @Option(names = "--kv-layout", defaultValue = "paged", description = "paged (PagedAttention) or contiguous (per-request reservation baseline) (default: ${DEFAULT-VALUE}).")
    String kvLayout;

    @Option(names = "--max-num-seqs", defaultValue = "64", description = "Sequences running at once (default: ${DEFAULT-VALUE}).")
    int maxNumSeqs;

    @Option(names = "--max-num-batched-tokens", defaultValue = "512", description = "Tokens computed per step; longer prompts are prefilled in chunks (default: ${DEFAULT-VALUE}).")
    int maxNumBatchedTokens;

    @Option(names = "--max-model-len", defaultValue = "0", description = "Longest prompt + output (default: the model's context length).")
    int maxModelLen;

    @Option(names = "--preemption-mode", defaultValue = "recompute", description = "recompute or swap (default: ${DEFAULT-VALUE}).")
    String preemptionMode;

    @Option(names = "--swap-space", defaultValue = "1GiB", description = "Swap area for --preemption-mode swap (default: ${DEFAULT-VALUE}).")
    String swapSpace;

    @Option(names = "--enable-prefix-caching", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Reuse cached KV blocks of shared prompt prefixes (default: on).")
    boolean enablePrefixCaching;

    EngineConfig toConfig() {
        return EngineConfig.builder()
                .blockSize(blockSize)
                .kvCacheMemory(kvCacheMemory == null ? 0 : ByteSize.parse(kvCacheMemory))
                .kvDtype(KvDtype.parse(kvCacheDtype))
                .kvLayout(KvLayout.parse(kvLayout))
                .maxNumSeqs(maxNumSeqs)
                .maxNumBatchedTokens(maxNumBatchedTokens)
                .maxModelLen(maxModelLen)
                .preemptionMode(preemptionMode)
                .swapSpace(ByteSize.parse(swapSpace))
                .enablePrefixCaching(enablePrefixCaching)
                .build();
    }
}
