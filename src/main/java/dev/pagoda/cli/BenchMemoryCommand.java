package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.MemoryBench;
import dev.pagoda.bench.MemoryBenchReport;
import dev.pagoda.bench.MemoryWorkload;
import dev.pagoda.bench.SharedPrefixWorkload;
import dev.pagoda.bench.BlockSharing;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvShape;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pagoda bench memory}: KV memory waste of the paged layout against contiguous reservation. */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = {"Replay a synthetic workload through the paged and the contiguous KV allocators (no model)"
                + " and report how the KV memory is used: token states, internal fragmentation, reservation,"
                + " external fragmentation, and how many requests fit at once.",
            "With --n, --beam-width, or a prefix:SHARED:UNIQUE:OUT workload, also report the KV blocks that"
                + " sharing (parallel sampling, beam search, prefix caching) uses against the same run without"
                + " it, at equal work, and the requests each fits in the budget.",
            "With --window W, also report the KV blocks and bytes held when the blocks out of a sliding window of W"
                + " tokens on every layer are released, against keeping them all, and the requests each fits;"
                + " sharegpt:IN:OUT gives ShareGPT-like lengths with other means (long outputs: sharegpt:161:8192).",
            "The KV budget is --kv-slots, or --kv-cache-memory divided by the bytes per token of the model shape"
                + " (default: OPT-13B in f16 with 12 GiB of KV cache, the paper's setting).",
            "The engine options here (--block-size, --kv-cache-memory, --kv-cache-dtype, --max-model-len, --max-num-seqs)"
                + " mean what they mean to the engine; their defaults are the paper's setting."})
public final class BenchMemoryCommand implements Callable<Integer> {
    @Option(names = "--workload", defaultValue = "sharegpt",
            description = "sharegpt, alpaca, seed, sharegpt:IN:OUT (ShareGPT's length spread around a mean prompt of"
                    + " IN and a mean output of OUT tokens), or prefix:SHARED:UNIQUE:OUT (a SHARED-token prefix common"
                    + " to all prompts, UNIQUE tokens of each one's own, OUT output tokens; compares prefix caching on"
                    + " and off) (default: ${DEFAULT-VALUE})")
    String workload;

    @Option(names = "--num-prompts", defaultValue = "1000", description = "requests (default: ${DEFAULT-VALUE})")
    int numPrompts;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the request lengths (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--kv-slots", description = "KV cache size in token slots (overrides --kv-cache-memory)")
    Integer kvSlots;

    @Option(names = "--kv-cache-memory", defaultValue = "12GiB",
            description = "KV cache size, e.g. 512MiB, 12GiB, 12G, 1.5GB (default: ${DEFAULT-VALUE})")
    String kvCacheMemory;

    @Option(names = "--layers", defaultValue = "40", description = "model layers (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--kv-heads", defaultValue = "40", description = "KV heads per layer (default: ${DEFAULT-VALUE})")
    int kvHeads;

    @Option(names = "--head-dim", defaultValue = "128", description = "head dimension (default: ${DEFAULT-VALUE})")
    int headDim;

    @Option(names = "--kv-cache-dtype", defaultValue = "f16", description = "f32, f16 or bf16 (default: ${DEFAULT-VALUE})")
    String kvCacheDtype;

    @Option(names = "--block-size", defaultValue = "16", description = "tokens per block (default: ${DEFAULT-VALUE})")
    int blockSize;

    @Option(names = "--max-model-len", defaultValue = "2048",
            description = "longest sequence (default: ${DEFAULT-VALUE})")
    int maxModelLen;

    @Option(names = "--max-tokens",
            description = "output tokens each request may ask for; the contiguous layout reserves prompt + this"
                    + " (default: the max model length)")
    Integer maxTokens;

    @Option(names = "--n", description = "parallel sampling: each prompt forked into this many samples, each of"
            + " its own output length; compared with as many independent sequences")
    Integer n;

    @Option(names = "--beam-width", description = "beam search with this many beams sharing their common history,"
            + " compared with every beam holding a private copy")
    Integer beamWidth;

    @Option(names = "--beam-parent-decay", defaultValue = "" + BlockSharing.BeamSearch.DEFAULT_PARENT_DECAY,
            description = "beam search stand-in: each new beam's parent is the beam of rank r with probability"
                    + " proportional to this^r (0 < d <= 1; small: long common history) (default: ${DEFAULT-VALUE})")
    double beamParentDecay;

    @Option(names = "--window", description = "sliding window of every layer of the model shape, in tokens (4096 for"
            + " Mistral 7B v0.1, 2047 for Phi-3-mini): also compare keeping every KV block with releasing the blocks"
            + " out of the window, at equal work and in the budget")
    Integer window;

    @Option(names = "--max-num-seqs", defaultValue = "256",
            description = "sharing runs: most sequences (samples, beams) running at once (default: ${DEFAULT-VALUE})")
    int maxNumSeqs;

    @Option(names = "--output", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE})")
    String output;

    @Option(names = "--plot", description = "also write stacked bars by waste kind per layout to this PNG file")
    Path plot;

    @Override
    public Integer call() {
        if (!output.equals("table") && !output.equals("json")) {
            throw new PagodaException("unknown --output '" + output + "': expected table or json");
        }
        KvShape shape = new KvShape(layers, kvHeads, headDim, blockSize, KvDtype.parse(kvCacheDtype));
        int slots = kvSlots != null ? kvSlots : shape.blocksIn(EngineOptions.size("--kv-cache-memory", kvCacheMemory, 1)) * blockSize;
        MemoryWorkload w = MemoryWorkload.parse(workload);
        MemoryBench.Config config = new MemoryBench.Config(w, numPrompts, seed, slots, blockSize, maxModelLen,
                maxTokens != null ? maxTokens : maxModelLen);
        MemoryBench.Result result = MemoryBench.run(config, sharing(w), maxNumSeqs,
                window == null ? null : new MemoryBench.Window(window, shape.bytesPerBlock()));
        System.out.print(output.equals("json") ? MemoryBenchReport.json(result) + "\n"
                : MemoryBenchReport.table(result));
        if (plot != null) {
            MemoryBenchReport.plot(result, plot);
        }
        return 0;
    }

    /** At most one kind of sharing per run; a prefix workload measures prefix caching. */
    private BlockSharing sharing(MemoryWorkload w) {
        boolean prefix = w instanceof SharedPrefixWorkload;
        if ((n != null ? 1 : 0) + (beamWidth != null ? 1 : 0) + (prefix ? 1 : 0) > 1) {
            throw new PagodaException("--n, --beam-width and a prefix workload each measure one kind of sharing:"
                    + " give at most one");
        }
        if (n != null) {
            return new BlockSharing.ParallelSampling(n);
        }
        if (beamWidth != null) {
            return new BlockSharing.BeamSearch(beamWidth, beamParentDecay);
        }
        return prefix ? new BlockSharing.PrefixCaching() : null;
    }
}
