package dev.pagoda.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.bench.ThroughputBench.Options;
import dev.pagoda.bench.ThroughputBench.RunResult;
import dev.pagoda.bench.ThroughputBench.Sharing;
import dev.pagoda.bench.ThroughputBench.Variant;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.kv.ByteSize;
import dev.pagoda.kv.KvLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;

/** Renders the runs of one throughput invocation, and the ratios between its variants, as a table or one JSON object. */
public final class ThroughputReport {
    private ThroughputReport() {
    }

    /** What every run of the invocation shared. */
    public record Setup(String model, Options options, EngineConfig engine, int threads) {
    }

    /**
     * Run {@code a} over run {@code b}, which differ in one respect ({@code axis}: kv_layout, prefix_caching or
     * sharing). Same workload, so every throughput figure has the same ratio.
     */
    public record Comparison(String axis, RunResult a, RunResult b) {
        public double throughputRatio() {
            return a.outputTokensPerSecond() / b.outputTokensPerSecond();
        }

        public double kvBlocksPeakRatio() {
            return b.kvBlocksPeak() == 0 ? 0 : (double) a.kvBlocksPeak() / b.kvBlocksPeak();
        }

        public String label() {
            Variant v = a.variant();
            // What the two runs have in common, after the ratio's name.
            String common = switch (axis) {
                case "kv_layout" -> (v.prefixCaching() ? "" : ", no prefix caching") + (v.sharing() == Sharing.NONE ? "" : ", " + v.sharing().label());
                case "prefix_caching" -> ", " + v.layout().label() + (v.sharing() == Sharing.NONE ? "" : ", " + v.sharing().label());
                default -> ", " + v.layout().label();
            };
            String what = switch (axis) {
                case "kv_layout" -> "paged / contiguous";
                case "prefix_caching" -> "prefix caching on / off";
                default -> "shared / separate";
            };
            return common.isEmpty() ? what : what + " (" + common.substring(2) + ")";
        }
    }

    /** Every pair of runs that differ in only the layout, only prefix caching, or (same layout) shared against separate samples. */
    public static List<Comparison> comparisons(List<RunResult> runs) {
        List<Comparison> out = new ArrayList<>();
        pairs(runs, "kv_layout", r -> r.variant().layout() == KvLayout.PAGED,
                v -> new Variant(KvLayout.CONTIGUOUS, v.prefixCaching(), v.sharing()), out);
        pairs(runs, "prefix_caching", r -> r.variant().prefixCaching() && r.variant().sharing() != Sharing.SEPARATE,
                v -> new Variant(v.layout(), false, v.sharing()), out);
        // Separate samples run without prefix caching; they are compared with the shared run closest to that.
        for (RunResult separate : runs) {
            if (separate.variant().sharing() == Sharing.SEPARATE) {
                runs.stream().filter(r -> r.variant().sharing() == Sharing.SHARED && r.variant().layout() == separate.variant().layout())
                        .reduce((first, second) -> second)
                        .ifPresent(shared -> out.add(new Comparison("sharing", shared, separate)));
            }
        }
        return out;
    }

    private static void pairs(List<RunResult> runs, String axis, Predicate<RunResult> numerator, Function<Variant, Variant> denominator,
                              List<Comparison> out) {
        for (RunResult a : runs) {
            if (numerator.test(a)) {
                Variant other = denominator.apply(a.variant());
                runs.stream().filter(b -> b.variant().equals(other)).findFirst().ifPresent(b -> out.add(new Comparison(axis, a, b)));
            }
        }
    }

    /** The runs' table, then, when {@code curve} was measured (else null), each layout comparison's bounds and the curve. */
    public static String table(Setup setup, List<RunResult> runs, BatchCurve.Result curve) {
        StringBuilder sb = new StringBuilder();
        Options o = setup.options();
        EngineConfig e = setup.engine();
        sb.append(String.format(Locale.ROOT, "model %s, workload %s, %d requests, seed %d%s, %d threads%n", setup.model(),
                o.workload().label(), o.numRequests(), o.seed(),
                o.beamWidth() > 1 ? ", beam width " + o.beamWidth() : o.n() > 1 ? ", n " + o.n() : "", setup.threads()));
        sb.append(String.format(Locale.ROOT, "KV cache %s in blocks of %d, max %d sequences, %d tokens per step, preemption %s%n%n",
                e.kvCacheMemory() == 0 ? "automatic" : ByteSize.format(e.kvCacheMemory()), e.blockSize(), e.maxNumSeqs(),
                e.maxNumBatchedTokens(), e.preemptionMode().name().toLowerCase(Locale.ROOT)));
        row(sb, "", runs, r -> r.variant().label());
        row(sb, "requests", runs, r -> Integer.toString(r.requests()));
        row(sb, "prompt / output tokens", runs, r -> r.promptTokens() + " / " + r.outputTokens());
        row(sb, "elapsed", runs, r -> fmt("%.2f s", r.elapsedSeconds()));
        row(sb, "requests/s", runs, r -> fmt("%.2f", r.requestsPerSecond()));
        row(sb, "output tok/s", runs, r -> fmt("%.1f", r.outputTokensPerSecond()));
        row(sb, "decode tok/s (pure decode steps)", runs, r -> fmt("%.1f", r.decodeTokensPerSecond()));
        row(sb, "total tok/s", runs, r -> fmt("%.1f", r.totalTokensPerSecond()));
        row(sb, "running batch mean / peak", runs, r -> fmt("%.1f / %d", r.meanRunning(), r.peakRunning()));
        row(sb, "steps", runs, r -> Long.toString(r.steps()));
        row(sb, "tokens computed", runs, r -> Long.toString(r.computedTokens()));
        row(sb, "preemptions (recompute/swap)", runs, r -> r.recomputePreemptions() + " / " + r.swapPreemptions());
        row(sb, "KV usage mean / peak", runs, r -> fmt("%.1f%% / %.1f%%", 100 * r.kvUsageMean(), 100 * r.kvUsagePeak()));
        row(sb, "KV blocks peak / total", runs, r -> r.kvBlocksPeak() + " / " + r.kvBlocksTotal());
        row(sb, "prefix cache hits / queried", runs, r -> fmt("%d / %d (%.1f%%)", r.prefixHitTokens(), r.prefixQueriedTokens(),
                100 * r.prefixHitRate()));
        row(sb, "max model len", runs, r -> Integer.toString(r.maxModelLen()));
        row(sb, "max-length requests KV holds", runs, r -> Long.toString(r.fullLengthRequests(e.blockSize())));
        List<Comparison> comparisons = comparisons(runs);
        if (!comparisons.isEmpty()) {
            sb.append('\n');
        }
        for (Comparison c : comparisons) {
            sb.append(String.format(Locale.ROOT, "%s: throughput %.2fx%s%n", c.label(), c.throughputRatio(),
                    c.axis().equals("sharing") ? fmt(", peak KV blocks %.2fx (%.1f%% saved)", c.kvBlocksPeakRatio(),
                            100 * (1 - c.kvBlocksPeakRatio())) : ""));
            if (curve != null && c.axis().equals("kv_layout")) {
                sb.append("  ").append(curve.bounds(c.a().meanRunning(), c.b().meanRunning())).append('\n');
            }
        }
        sb.append("KV usage is sampled every ").append(KvSampler.PERIOD_MILLIS).append(" ms during the run; peak blocks too for the"
                + " contiguous layout (paged: exact, after every step).\n");
        if (curve != null) {
            sb.append('\n').append(curve.table());
        }
        return sb.toString();
    }

    /** One JSON object; {@code curve}, when measured, under "batch_curve". */
    public static String json(Setup setup, List<RunResult> runs, BatchCurve.Result curve) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        Options o = setup.options();
        EngineConfig e = setup.engine();
        root.put("model", setup.model());
        root.put("workload", o.workload().label());
        root.put("num_requests", o.numRequests());
        root.put("seed", o.seed());
        root.put("n", o.n());
        root.put("beam_width", o.beamWidth());
        root.put("threads", setup.threads());
        root.put("kv_cache_memory", e.kvCacheMemory());
        root.put("block_size", e.blockSize());
        root.put("max_num_seqs", e.maxNumSeqs());
        root.put("max_num_batched_tokens", e.maxNumBatchedTokens());
        root.put("preemption_mode", e.preemptionMode().name().toLowerCase(Locale.ROOT));
        ArrayNode list = root.putArray("runs");
        for (RunResult r : runs) {
            ObjectNode n = list.addObject();
            n.put("kv_layout", r.variant().layout().label());
            n.put("prefix_caching", r.variant().prefixCaching());
            n.put("sharing", r.variant().sharing().label());
            n.put("requests", r.requests());
            n.put("prompt_tokens", r.promptTokens());
            n.put("output_tokens", r.outputTokens());
            n.put("elapsed_s", r.elapsedSeconds());
            n.put("requests_per_s", r.requestsPerSecond());
            n.put("output_tokens_per_s", r.outputTokensPerSecond());
            n.put("decode_tokens_per_s", r.decodeTokensPerSecond());
            n.put("total_tokens_per_s", r.totalTokensPerSecond());
            n.put("mean_running", r.meanRunning());
            n.put("peak_running", r.peakRunning());
            n.put("steps", r.steps());
            n.put("computed_tokens", r.computedTokens());
            n.put("preemptions", r.preemptions());
            n.put("recompute_preemptions", r.recomputePreemptions());
            n.put("swap_preemptions", r.swapPreemptions());
            n.put("kv_usage_mean", r.kvUsageMean());
            n.put("kv_usage_peak", r.kvUsagePeak());
            n.put("kv_blocks_peak", r.kvBlocksPeak());
            n.put("kv_blocks_total", r.kvBlocksTotal());
            n.put("prefix_queried_tokens", r.prefixQueriedTokens());
            n.put("prefix_hit_tokens", r.prefixHitTokens());
            n.put("max_model_len", r.maxModelLen());
            n.put("max_length_requests_kv_holds", r.fullLengthRequests(e.blockSize()));
        }
        ArrayNode ratios = root.putArray("comparisons");
        for (Comparison c : comparisons(runs)) {
            ObjectNode n = ratios.addObject();
            n.put("axis", c.axis());
            n.put("numerator", c.a().variant().label());
            n.put("denominator", c.b().variant().label());
            n.put("throughput_ratio", c.throughputRatio());
            n.put("kv_blocks_peak_ratio", c.kvBlocksPeakRatio());
            if (curve != null && c.axis().equals("kv_layout")) {
                n.put("roofline_gain_bound", curve.rooflineGain(c.a().meanRunning(), c.b().meanRunning()));
                n.put("curve_gain_bound", curve.curveGain(c.a().meanRunning(), c.b().meanRunning()));
            }
        }
        if (curve != null) {
            curve.json(root.putObject("batch_curve"));
        }
        return root.toString();
    }

    private static void row(StringBuilder sb, String name, List<RunResult> runs, Function<RunResult, String> cell) {
        sb.append(String.format(Locale.ROOT, "%-30s", name));
        for (RunResult r : runs) {
            sb.append(String.format(Locale.ROOT, " %36s", cell.apply(r)));
        }
        sb.append('\n');
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
