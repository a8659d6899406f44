package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.constraint.Constraint;
import dev.pagoda.constraint.ConstraintException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.pagoda.bench.BatchCurve;
import dev.pagoda.bench.ThroughputBench;
import dev.pagoda.bench.ThroughputReport;
import dev.pagoda.bench.ThroughputWorkload;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.model.Model;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pagoda bench throughput}: offline throughput of the engine, every request submitted at once. */
@Command(name = "throughput", mixinStandardHelpOptions = true,
        description = {"Offline throughput: submits every request of a synthetic workload at once (random prompt tokens,"
                + " EOS ignored, output lengths from the workload) and runs the engine until all are done.",
            "Reports requests/s, output and total tok/s, the running batch, preemptions and KV usage; a progress bar"
                + " goes to stderr. --kv-layout both runs paged then contiguous; a prefix: workload runs prefix caching"
                + " on then off; --n or --beam-width above 1 runs the samples sharing their prompt's blocks, then as"
                + " separate requests; the ratios between the runs follow the table.",
            "A short warm-up run through a throwaway engine precedes the timed runs (--no-warmup skips it)."})
final class BenchThroughputCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption model;

    @Mixin
    EngineOptions engine;

    @Option(names = "--workload", defaultValue = "sharegpt", description = ThroughputWorkload.USAGE + " (default: ${DEFAULT-VALUE}).")
    String workload;

    @Option(names = "--client-max-tokens", defaultValue = "workload",
            description = "workload: each request asks for exactly its output length; context: each asks for the rest of the context "
                    + "and is ended at its output length as if by EOS, so reservations reflect what clients ask (default: ${DEFAULT-VALUE}).")
    String clientMaxTokens;

    @Option(names = "--num-prompts", defaultValue = "100", description = "Requests (default: ${DEFAULT-VALUE}).")
    int numPrompts;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the lengths, prompts and sampling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--n", defaultValue = "1", description = "Samples per request, parallel sampling (default: ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--beam-width", defaultValue = "1", description = "Beams per request, beam search (default: ${DEFAULT-VALUE}: none).")
    int beamWidth;

    @Option(names = "--warmup", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Run a few short requests through a throwaway engine first, for the JIT (default: on).")
    boolean warmup;

    @Option(names = "--json-schema", paramLabel = "SCHEMA",
            description = "Also run every configuration with this JSON schema (text, or @FILE) guiding each request, side by side "
                    + "(the mask's cost); 'open' is an object with a long free string that outlasts every request, so each keeps its length.")
    String jsonSchema;

    @Option(names = "--output", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Option(names = "--batch-curve", arity = "0..1", paramLabel = "MAX", defaultValue = "0", fallbackValue = "64",
            description = "Also time pure decode steps at batch sizes 1, 2, 4, ... MAX (64 when no MAX is given) at a short context,"
                    + " beside the bandwidth and FMA rooflines: whether running more requests at once (what paging buys) pays on this"
                    + " machine (default: off).")
    int batchCurve;

    @Option(names = "--max-num-seqs-at-peak",
            description = "With --batch-curve: the runs use --max-num-seqs = the batch where the curve's decode tok/s peaks, both"
                    + " layouts alike (more sequences at once only slow each step more than they add; default: off).")
    boolean maxNumSeqsAtPeak;

    /**
     * A schema no request finishes (a string of at least 4096 characters), so guided requests run to their workload
     * length like the unguided ones: every position of the string is an automaton state of its own, so the run also
     * pays for computing each state's mask once (shared by all requests).
     */
    static final String OPEN_SCHEMA = "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\",\"minLength\":4096}},"
            + "\"required\":[\"text\"],\"additionalProperties\":false}";

    private Constraint guided() {
        if (jsonSchema == null) {
            return null;
        }
        String text = jsonSchema.equals("open") ? OPEN_SCHEMA : jsonSchema;
        if (text.startsWith("@")) {
            try {
                text = Files.readString(Path.of(text.substring(1)));
            } catch (IOException e) {
                throw new PagodaException("--json-schema: cannot read " + text.substring(1) + ": " + e.getMessage());
            }
        }
        try {
            return Constraint.jsonSchema(text);
        } catch (ConstraintException e) {
            throw new PagodaException("--json-schema: " + e.getMessage());
        }
    }

    @Override
    public Integer call() {
        if (!output.equals("table") && !output.equals("json")) {
            throw new PagodaException("unknown --output '" + output + "': expected table or json");
        }
        ThroughputBench.Options options = new ThroughputBench.Options(ThroughputWorkload.parse(workload), numPrompts, seed, n, beamWidth,
                switch (clientMaxTokens) {
                    case "workload" -> false;
                    case "context" -> true;
                    default -> throw new PagodaException("--client-max-tokens must be workload or context, got '" + clientMaxTokens + "'");
                }, guided());
        if (maxNumSeqsAtPeak && batchCurve == 0) {
            throw new PagodaException("--max-num-seqs-at-peak needs --batch-curve");
        }
        List<KvLayout> layouts = engine.kvLayout.equalsIgnoreCase("both")
                ? List.of(KvLayout.PAGED, KvLayout.CONTIGUOUS) : List.of(KvLayout.parse(engine.kvLayout));
        // `both` is this command's own value; the shared engine options parse one layout, each run sets its own.
        engine.kvLayout = layouts.get(0).label();
        EngineConfig base = engine.toConfig();
        List<ThroughputBench.Variant> variants = ThroughputBench.variants(layouts, base.enablePrefixCaching(), options);
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = model.open()) {
            if (warmup) {
                ThroughputBench.warmUp(m, base, variants.getFirst(), options);
            }
            BatchCurve.Result curve = null;
            if (batchCurve != 0) {
                List<Integer> sizes = BatchCurve.sizes(batchCurve);
                try (ProgressBar bar = TerminalProgress.builder("batch curve").setInitialMax(sizes.size()).build()) {
                    curve = BatchCurve.measure(m, base, batchCurve, bar::stepTo);
                }
                if (maxNumSeqsAtPeak) {
                    base = base.toBuilder().maxNumSeqs(curve.peakBatch()).build();
                }
            }
            List<ThroughputBench.RunResult> runs = new ArrayList<>();
            for (ThroughputBench.Variant v : variants) {
                try (ProgressBar bar = TerminalProgress.builder(v.label()).setInitialMax(numPrompts).build()) {
                    runs.add(ThroughputBench.run(m, base, v, options, bar::stepTo));
                }
            }
            ThroughputReport.Setup setup = new ThroughputReport.Setup(m.name(), options, base, WorkerPool.shared().threads());
            if (options.guided() != null) {
                spec.commandLine().getErr().printf("json_schema compiled in %.1f ms%n", options.guided().compileNanos() / 1e6);
            }
            out.print(output.equals("json") ? ThroughputReport.json(setup, runs, curve) + "\n"
                    : ThroughputReport.table(setup, runs, curve));
        }
        out.flush();
        return 0;
    }
}
