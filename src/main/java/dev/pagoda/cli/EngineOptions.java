package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.kv.ByteSize;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvLayout;
import java.lang.reflect.Field;
import java.util.Locale;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Option;

/**
 * The engine's options, shared by every command that runs the engine, under vLLM's names. Their defaults are not
 * written here: {@link Defaults} reads them from {@link EngineConfig#defaults()}, so that the library and every
 * command agree (and {@code --help} shows them).
 */
final class EngineOptions {
    private static final long GIB = 1L << 30;

    @Option(names = "--block-size", description = "Tokens per KV block, 1..256 (default: ${DEFAULT-VALUE}).")
    int blockSize;

    @Option(names = "--kv-cache-memory", paramLabel = "SIZE", description = "KV cache size, e.g. 512MiB, 4GiB, 4G (default: a quarter of free memory, at most what --max-num-seqs full-length sequences use).")
    String kvCacheMemory;

    @Option(names = "--kv-cache-dtype", description = "f32, f16 or bf16 (default: ${DEFAULT-VALUE}).")
    String kvCacheDtype;

    @Option(names = "--kv-layout", description = "paged (PagedAttention) or contiguous (per-request reservation baseline) (default: ${DEFAULT-VALUE}).")
    String kvLayout;

    @Option(names = "--max-num-seqs", description = "Sequences running at once (default: ${DEFAULT-VALUE}).")
    int maxNumSeqs;

    @Option(names = "--max-num-batched-tokens", description = "Tokens computed per step; longer prompts are prefilled in chunks (default: ${DEFAULT-VALUE}).")
    int maxNumBatchedTokens;

    @Option(names = "--max-model-len", description = "Longest prompt + output (default: the model's context length).")
    int maxModelLen;

    @Option(names = "--preemption-mode", description = "recompute or swap (default: ${DEFAULT-VALUE}).")
    String preemptionMode;

    @Option(names = "--swap-space", paramLabel = "SIZE", description = "Swap area for --preemption-mode swap; a bare number is GiB, as in vLLM (default: ${DEFAULT-VALUE}).")
    String swapSpace;

    @Option(names = "--enable-prefix-caching", negatable = true, fallbackValue = "true",
            description = "Reuse cached KV blocks of shared prompt prefixes (default: ${DEFAULT-VALUE}).")
    boolean enablePrefixCaching;

    EngineConfig toConfig() {
        return EngineConfig.builder()
                .blockSize(blockSize)
                .kvCacheMemory(kvCacheMemory == null ? 0 : size("--kv-cache-memory", kvCacheMemory, 1))
                .kvDtype(KvDtype.parse(kvCacheDtype))
                .kvLayout(KvLayout.parse(kvLayout))
                .maxNumSeqs(maxNumSeqs)
                .maxNumBatchedTokens(maxNumBatchedTokens)
                .maxModelLen(maxModelLen)
                .preemptionMode(preemptionMode)
                .swapSpace(size("--swap-space", swapSpace, GIB))
                .enablePrefixCaching(enablePrefixCaching)
                .build();
    }

    /** A size option's bytes; a bare number counts {@code bareUnit} bytes. */
    static long size(String option, String text, long bareUnit) {
        try {
            return ByteSize.parse(text, bareUnit);
        } catch (PagodaException e) {
            throw new PagodaException(option + ": " + e.getMessage());
        }
    }

    /** Supplies the defaults of the options above from {@link EngineConfig#defaults()}; other options keep their own. */
    static final class Defaults implements IDefaultValueProvider {
        @Override
        public String defaultValue(ArgSpec arg) {
            if (!(arg.userObject() instanceof Field f) || f.getDeclaringClass() != EngineOptions.class) {
                return null;
            }
            EngineConfig d = EngineConfig.defaults();
            return switch (f.getName()) {
                case "blockSize" -> String.valueOf(d.blockSize());
                case "kvCacheDtype" -> lower(d.kvDtype());
                case "kvLayout" -> lower(d.kvLayout());
                case "maxNumSeqs" -> String.valueOf(d.maxNumSeqs());
                case "maxNumBatchedTokens" -> String.valueOf(d.maxNumBatchedTokens());
                case "maxModelLen" -> String.valueOf(d.maxModelLen());
                case "preemptionMode" -> lower(d.preemptionMode());
                case "swapSpace" -> ByteSize.exact(d.swapSpace());
                case "enablePrefixCaching" -> String.valueOf(d.enablePrefixCaching());
                default -> null;  // --kv-cache-memory: automatic, described in words
            };
        }

        private static String lower(Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT);
        }
    }
}
