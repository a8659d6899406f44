package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.MemoryBench;
import dev.pagoda.bench.MemoryBenchReport;
import dev.pagoda.bench.SyntheticWorkload;
import dev.pagoda.kv.ByteSize;
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
            "The KV budget is --kv-slots, or --kv-cache-memory divided by the bytes per token of the model shape"
                + " (default: OPT-13B in f16 with 12 GiB of KV cache, the paper's setting)."})
public final class BenchMemoryCommand implements Callable<Integer> {
    @Option(names = "--workload", defaultValue = "sharegpt",
            description = "sharegpt, alpaca or seed (default: ${DEFAULT-VALUE})")
    String workload;

    @Option(names = "--num-requests", defaultValue = "1000", description = "requests (default: ${DEFAULT-VALUE})")
    int numRequests;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the request lengths (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--kv-slots", description = "KV cache size in token slots (overrides --kv-cache-memory)")
    Integer kvSlots;

    @Option(names = "--kv-cache-memory", defaultValue = "12GiB",
            description = "KV cache size in bytes, e.g. 512MiB, 12GiB, 1.5GB (default: ${DEFAULT-VALUE})")
    String kvCacheMemory;

    @Option(names = "--layers", defaultValue = "40", description = "model layers (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--kv-heads", defaultValue = "40", description = "KV heads per layer (default: ${DEFAULT-VALUE})")
    int kvHeads;

    @Option(names = "--head-dim", defaultValue = "128", description = "head dimension (default: ${DEFAULT-VALUE})")
    int headDim;

    @Option(names = "--kv-dtype", defaultValue = "f16", description = "f32, f16 or bf16 (default: ${DEFAULT-VALUE})")
    String kvDtype;

    @Option(names = "--block-size", defaultValue = "16", description = "tokens per block (default: ${DEFAULT-VALUE})")
    int blockSize;

    @Option(names = "--max-model-len", defaultValue = "2048",
            description = "longest sequence (default: ${DEFAULT-VALUE})")
    int maxModelLen;

    @Option(names = "--max-tokens",
            description = "output tokens each request may ask for; the contiguous layout reserves prompt + this"
                    + " (default: the max model length)")
    Integer maxTokens;

    @Option(names = "--output", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE})")
    String output;

    @Option(names = "--plot", description = "also write stacked bars by waste kind per layout to this PNG file")
    Path plot;

    @Override
    public Integer call() {
        if (!output.equals("table") && !output.equals("json")) {
            throw new PagodaException("unknown --output '" + output + "': expected table or json");
        }
        KvShape shape = new KvShape(layers, kvHeads, headDim, blockSize, KvDtype.parse(kvDtype));
        int slots = kvSlots != null ? kvSlots : shape.blocksIn(ByteSize.parse(kvCacheMemory)) * blockSize;
        MemoryBench.Config config = new MemoryBench.Config(SyntheticWorkload.parse(workload), numRequests, seed,
                slots, blockSize, maxModelLen, maxTokens != null ? maxTokens : maxModelLen);
        MemoryBench.Result result = MemoryBench.run(config);
        System.out.print(output.equals("json") ? MemoryBenchReport.json(result) + "\n"
                : MemoryBenchReport.table(result));
        if (plot != null) {
            MemoryBenchReport.plot(result, plot);
        }
        return 0;
    }
}
