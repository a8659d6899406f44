package dev.pagoda.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.PagodaException;
import dev.pagoda.bench.MemoryBench.LayoutResult;
import dev.pagoda.bench.MemoryBench.Result;
import dev.pagoda.bench.SyntheticWorkload.Request;
import dev.pagoda.kv.ByteSize;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/** Renders a {@link MemoryBench} result as a text table, a JSON object, or a stacked bar chart. */
public final class MemoryBenchReport {
    private static final String[] KINDS = {"token states", "internal fragmentation", "reservation",
        "external fragmentation", "usable free"};
    private static final String KEEP = "keep all";
    private static final String RELEASE = "release";

    private MemoryBenchReport() {
    }

    public static String table(Result r) {
        MemoryBench.Config c = r.config();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "workload %s: %d requests (mean prompt %.1f, mean output %.1f tokens),"
                        + " seed %d%n", c.workload().label(), r.requests().size(), meanPrompt(r.requests()),
                meanOutput(r.requests()), c.seed()));
        sb.append(String.format(Locale.ROOT, "KV budget %d slots (%d blocks of %d); max model len %d; contiguous"
                        + " reservation = min(prompt + %d, %d)%n", r.paged().totalSlots(),
                r.paged().totalSlots() / c.blockSize(), c.blockSize(), c.maxModelLen(), c.maxTokens(),
                c.maxModelLen()));
        sb.append("slots averaged over the steps in which requests were waiting (share of all KV slots)\n\n");
        sb.append(String.format(Locale.ROOT, "%-10s %15s %15s %15s %15s %15s %7s %13s %11s%n", "layout", "tokens",
                "internal frag", "reserved", "external frag", "usable free", "waste", "requests fit",
                "preemptions"));
        for (LayoutResult l : List.of(r.paged(), r.contiguous())) {
            double[] v = values(l);
            sb.append(String.format(Locale.ROOT, "%-10s", l.layout().label()));
            for (double x : v) {
                sb.append(String.format(Locale.ROOT, " %8.0f %5.1f%%", x, 100 * x / l.totalSlots()));
            }
            sb.append(String.format(Locale.ROOT, " %6.1f%% %7.1f/%-5d %11d%n", 100 * l.wasteFraction(),
                    l.requestsFit(), l.requestsFitMax(), l.preemptions()));
        }
        sb.append("\nwaste = slots not holding a token / slots allocated, reserved or stranded by external"
                + " fragmentation; requests fit = mean/max running at once\n");
        if (r.sharing() != null) {
            sb.append('\n').append(sharingTable(r.sharing(), c.blockSize()));
        }
        if (r.window() != null) {
            sb.append('\n').append(windowTable(r.window(), c.blockSize()));
        }
        return sb.toString();
    }

    /** The sharing comparison: blocks at equal work, then requests fit by each run in the budget. */
    static String sharingTable(SharingResult s, int blockSize) {
        BlockSharing m = s.sharing();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s, paged, blocks of %d, at most %d sequences running%n", m.label(),
                blockSize, s.maxNumSeqs()));
        sb.append(String.format(Locale.ROOT, "KV memory at equal work: the sequences of the run with %s, counted"
                + " with and without sharing at each of its %d steps%n", m.withLabel(), s.capacityWith().steps()));
        usageRows(sb, Map.entry(m.withoutLabel(), s.without()), Map.entry(m.withLabel(), s.with()),
                s.savedFraction(), s.peakSavedFraction(), 0);
        sb.append("saved = 1 - blocks with sharing / blocks without (mean over steps; peak); without sharing each"
                + " sequence holds ceil(length / block size) blocks of its own\n");
        if (m instanceof BlockSharing.PrefixCaching) {
            sb.append(String.format(Locale.ROOT, "prefix cache: %d of %d prompt tokens hit (%.1f%%)%n",
                    s.prefixCache().hitTokens(), s.prefixCache().queriedTokens(), 100 * s.prefixCache().hitRate()));
        }
        capacityRows(sb, Map.entry(m.withoutLabel(), s.capacityWithout()), Map.entry(m.withLabel(), s.capacityWith()));
        return sb.toString();
    }

    /** The sliding-window comparison: blocks (and bytes) at equal work, then requests fit by each run in the budget. */
    static String windowTable(WindowResult w, int blockSize) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "sliding window of %d tokens on every layer, paged, blocks of %d (%s"
                + " each)%n", w.window(), blockSize, ByteSize.format(w.bytesPerBlock())));
        sb.append(String.format(Locale.ROOT, "KV memory at equal work: the sequences of the run that releases the"
                + " blocks out of the window, counted with and without release at each of its %d steps%n",
                w.capacityReleased().steps()));
        usageRows(sb, Map.entry(KEEP, w.kept()), Map.entry(RELEASE, w.released()), w.savedFraction(),
                w.peakSavedFraction(), w.bytesPerBlock());
        sb.append("saved = 1 - blocks with release / blocks kept (mean over steps; peak); keeping every block each"
                + " sequence holds ceil(length / block size) blocks; with release, those a step computes with\n");
        capacityRows(sb, Map.entry(KEEP, w.capacityKept()), Map.entry(RELEASE, w.capacityReleased()));
        return sb.toString();
    }

    /** Mean and peak blocks of two runs (and their bytes, unless {@code bytesPerBlock} is 0), then the saving. */
    private static void usageRows(StringBuilder sb, Map.Entry<String, SharingResult.BlockUsage> without,
                                  Map.Entry<String, SharingResult.BlockUsage> with, double saved, double peakSaved,
                                  long bytesPerBlock) {
        sb.append(String.format(Locale.ROOT, "%-12s %12s %12s %17s", "", "mean blocks", "peak blocks",
                "mean token slots"));
        sb.append(bytesPerBlock == 0 ? "\n" : String.format(Locale.ROOT, " %11s %11s%n", "mean bytes", "peak bytes"));
        for (var e : List.of(without, with)) {
            SharingResult.BlockUsage u = e.getValue();
            sb.append(String.format(Locale.ROOT, "%-12s %12.1f %12d %17.1f", e.getKey(), u.meanBlocks(),
                    u.peakBlocks(), u.meanTokenSlots()));
            sb.append(bytesPerBlock == 0 ? "\n" : String.format(Locale.ROOT, " %11s %11s%n",
                    ByteSize.format((long) (u.meanBlocks() * bytesPerBlock)),
                    ByteSize.format((long) u.peakBlocks() * bytesPerBlock)));
        }
        sb.append(String.format(Locale.ROOT, "%-12s %11.1f%% %11.1f%%%n", "saved", 100 * saved, 100 * peakSaved));
    }

    /** Requests fit, preemptions and steps of two runs, each alone in the KV budget. */
    private static void capacityRows(StringBuilder sb, Map.Entry<String, SharingResult.Capacity> without,
                                     Map.Entry<String, SharingResult.Capacity> with) {
        sb.append(String.format(Locale.ROOT, "%nEach run alone in the KV budget%n%-12s %13s %12s %7s%n", "",
                "requests fit", "preemptions", "steps"));
        for (var e : List.of(without, with)) {
            SharingResult.Capacity c = e.getValue();
            sb.append(String.format(Locale.ROOT, "%-12s %7.1f/%-5d %12d %7d%n", e.getKey(), c.requestsFit(),
                    c.requestsFitMax(), c.preemptions(), c.steps()));
        }
        sb.append("requests fit = mean/max requests running at once (mean over the steps in which some were"
                + " waiting)\n");
    }

    public static String json(Result r) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        MemoryBench.Config c = r.config();
        root.put("workload", c.workload().label());
        root.put("num_requests", c.numRequests());
        root.put("seed", c.seed());
        root.put("block_size", c.blockSize());
        root.put("kv_slots", r.paged().totalSlots());
        root.put("max_model_len", c.maxModelLen());
        root.put("max_tokens", c.maxTokens());
        root.put("mean_prompt_tokens", meanPrompt(r.requests()));
        root.put("mean_output_tokens", meanOutput(r.requests()));
        for (LayoutResult l : List.of(r.paged(), r.contiguous())) {
            ObjectNode n = root.putObject(l.layout().label());
            n.put("total_slots", l.totalSlots());
            n.put("token_slots", l.tokenSlots());
            n.put("internal_fragmentation_slots", l.internalFragmentation());
            n.put("reserved_slots", l.reservedSlots());
            n.put("external_fragmentation_slots", l.externalFragmentation());
            n.put("free_slots", l.freeSlots());
            n.put("requests_fit", l.requestsFit());
            n.put("requests_fit_max", l.requestsFitMax());
            n.put("preemptions", l.preemptions());
            n.put("steps", l.steps());
            n.put("measured_steps", l.measuredSteps());
            n.put("waste_fraction", l.wasteFraction());
        }
        if (r.sharing() != null) {
            sharingJson(r.sharing(), root.putObject("sharing"));
        }
        if (r.window() != null) {
            windowJson(r.window(), root.putObject("sliding_window"));
        }
        try {
            return mapper.writeValueAsString(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Under "sharing": the mode and its parameters, "equal_work" (blocks) and "capacity" (requests fit). */
    private static void sharingJson(SharingResult s, ObjectNode n) {
        n.put("mode", s.sharing().key());
        n.put("max_num_seqs", s.maxNumSeqs());
        switch (s.sharing()) {
            case BlockSharing.ParallelSampling p -> n.put("n", p.n());
            case BlockSharing.BeamSearch b -> {
                n.put("beam_width", b.width());
                n.put("beam_parent_decay", b.parentDecay());
            }
            case BlockSharing.PrefixCaching p -> {
                n.put("prefix_cache_queried_tokens", s.prefixCache().queriedTokens());
                n.put("prefix_cache_hit_tokens", s.prefixCache().hitTokens());
            }
        }
        comparisonJson(n, Map.entry("without_sharing", s.without()), Map.entry("with_sharing", s.with()),
                s.savedFraction(), s.peakSavedFraction(), Map.entry("without_sharing", s.capacityWithout()),
                Map.entry("with_sharing", s.capacityWith()));
    }

    /** Under "sliding_window": the window, bytes per block, "equal_work" (blocks) and "capacity" (requests fit). */
    private static void windowJson(WindowResult w, ObjectNode n) {
        n.put("window", w.window());
        n.put("bytes_per_block", w.bytesPerBlock());
        comparisonJson(n, Map.entry("keep_all", w.kept()), Map.entry("release", w.released()), w.savedFraction(),
                w.peakSavedFraction(), Map.entry("keep_all", w.capacityKept()), Map.entry("release", w.capacityReleased()));
    }

    /** "equal_work": both runs' blocks and the saving; "capacity": each run alone in the budget. */
    private static void comparisonJson(ObjectNode n, Map.Entry<String, SharingResult.BlockUsage> without,
                                       Map.Entry<String, SharingResult.BlockUsage> with, double saved, double peakSaved,
                                       Map.Entry<String, SharingResult.Capacity> capacityWithout,
                                       Map.Entry<String, SharingResult.Capacity> capacityWith) {
        ObjectNode work = n.putObject("equal_work");
        for (var e : List.of(without, with)) {
            ObjectNode u = work.putObject(e.getKey());
            u.put("mean_blocks", e.getValue().meanBlocks());
            u.put("peak_blocks", e.getValue().peakBlocks());
            u.put("mean_token_slots", e.getValue().meanTokenSlots());
        }
        work.put("saved_fraction", saved);
        work.put("peak_saved_fraction", peakSaved);
        ObjectNode capacity = n.putObject("capacity");
        for (var e : List.of(capacityWithout, capacityWith)) {
            ObjectNode c = capacity.putObject(e.getKey());
            c.put("requests_fit", e.getValue().requestsFit());
            c.put("requests_fit_max", e.getValue().requestsFitMax());
            c.put("preemptions", e.getValue().preemptions());
            c.put("steps", e.getValue().steps());
        }
    }

    /** Stacked bars, one per layout, of the share of KV slots of each kind, as a PNG. */
    public static void plot(Result r, Path file) {
        CategoryChart chart = new CategoryChartBuilder().width(800).height(600)
                .title("KV cache usage, " + r.config().workload().label() + " workload")
                .xAxisTitle("layout").yAxisTitle("% of KV slots").build();
        chart.getStyler().setStacked(true);
        chart.getStyler().setYAxisMax(100.0);
        chart.getStyler().setYAxisMin(0.0);
        List<String> layouts = List.of(r.paged().layout().label(), r.contiguous().layout().label());
        double[] paged = values(r.paged());
        double[] contiguous = values(r.contiguous());
        for (int k = 0; k < KINDS.length; k++) {
            chart.addSeries(KINDS[k], layouts, List.of(100 * paged[k] / r.paged().totalSlots(),
                    100 * contiguous[k] / r.contiguous().totalSlots()));
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new PagodaException("cannot write plot " + file + ": " + e.getMessage(), e);
        }
    }

    /** Slots of each kind in {@link #KINDS} order; they add up to the total. */
    private static double[] values(LayoutResult l) {
        return new double[] {l.tokenSlots(), l.internalFragmentation(), l.reservedSlots(),
            l.externalFragmentation(), l.usableFreeSlots()};
    }

    private static double meanPrompt(List<Request> requests) {
        return requests.stream().mapToInt(Request::promptTokens).average().orElse(0);
    }

    private static double meanOutput(List<Request> requests) {
        return requests.stream().mapToInt(Request::outputTokens).average().orElse(0);
    }
}
