package dev.pagoda.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.PagodaException;
import dev.pagoda.bench.MemoryBench.LayoutResult;
import dev.pagoda.bench.MemoryBench.Result;
import dev.pagoda.bench.SyntheticWorkload.Request;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/** Renders a {@link MemoryBench} result as a text table, a JSON object, or a stacked bar chart. */
public final class MemoryBenchReport {
    private static final String[] KINDS = {"token states", "internal fragmentation", "reservation",
        "external fragmentation", "usable free"};

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
        return sb.toString();
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
        try {
            return mapper.writeValueAsString(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
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
