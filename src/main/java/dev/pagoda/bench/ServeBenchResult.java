package dev.pagoda.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.PagodaException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The serving benchmark's numbers, as vLLM bench serve reports them: throughput (requests, output tokens, all
 * tokens per second over the run), goodput (requests per second meeting every SLO), and TTFT, TPOT, ITL and
 * end-to-end latency as mean, median, p90 and p99 in milliseconds, over successful requests.
 */
public final class ServeBenchResult {
    private static final double[] PERCENTILES = {50, 90, 99};

    /** A latency summary in milliseconds. */
    public record Summary(double mean, double median, double p90, double p99) {
        static Summary of(double[] seconds) {
            if (seconds.length == 0) {
                return new Summary(0, 0, 0, 0);
            }
            double[] s = seconds.clone();
            Arrays.sort(s);
            double mean = Arrays.stream(s).sum() / s.length;
            return new Summary(mean * 1e3, percentile(s, PERCENTILES[0]) * 1e3, percentile(s, PERCENTILES[1]) * 1e3,
                    percentile(s, PERCENTILES[2]) * 1e3);
        }
    }

    private final List<ServeBenchRequest.Outcome> outcomes;
    private final double duration;
    private final Map<String, Double> slosMs;
    private final Map<String, Object> settings;
    public final int completed;
    public final int failed;
    public final long inputTokens;
    public final long outputTokens;
    public final int goodRequests;
    public final Summary ttft;
    public final Summary tpot;
    public final Summary itl;
    public final Summary e2e;

    /**
     * @param slosMs   goodput targets by metric (ttft, tpot, e2el) in ms; empty for no goodput
     * @param settings what was run (workload, rate...), echoed in the report and the JSON
     */
    public ServeBenchResult(ServeBench.Run run, Map<String, Double> slosMs, Map<String, Object> settings) {
        this.outcomes = run.outcomes();
        this.duration = run.durationSeconds();
        this.slosMs = Map.copyOf(slosMs);
        this.settings = new LinkedHashMap<>(settings);
        List<ServeBenchRequest.Outcome> ok = outcomes.stream().filter(ServeBenchRequest.Outcome::success).toList();
        this.completed = ok.size();
        this.failed = outcomes.size() - completed;
        this.inputTokens = ok.stream().mapToLong(ServeBenchRequest.Outcome::promptTokens).sum();
        this.outputTokens = ok.stream().mapToLong(ServeBenchRequest.Outcome::outputTokens).sum();
        this.goodRequests = (int) ok.stream().filter(this::meetsSlos).count();
        this.ttft = Summary.of(ok.stream().mapToDouble(ServeBenchRequest.Outcome::ttft).toArray());
        this.tpot = Summary.of(ok.stream().filter(o -> o.outputTokens() > 1).mapToDouble(ServeBenchRequest.Outcome::tpot).toArray());
        this.itl = Summary.of(ok.stream().flatMapToDouble(o -> Arrays.stream(o.itls())).toArray());
        this.e2e = Summary.of(ok.stream().mapToDouble(ServeBenchRequest.Outcome::latency).toArray());
    }

    /** Parses {@code ttft:MS tpot:MS e2el:MS} goodput targets. */
    public static Map<String, Double> parseSlos(List<String> specs) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String s : specs == null ? List.<String>of() : specs) {
            String[] kv = s.split(":", 2);
            if (kv.length != 2 || !List.of("ttft", "tpot", "e2el").contains(kv[0])) {
                throw new PagodaException("--goodput takes ttft:MS, tpot:MS or e2el:MS, got '" + s + "'");
            }
            try {
                double ms = Double.parseDouble(kv[1]);
                if (!(ms > 0)) {
                    throw new NumberFormatException();
                }
                out.put(kv[0], ms);
            } catch (NumberFormatException e) {
                throw new PagodaException("--goodput " + kv[0] + " needs a positive number of milliseconds, got '" + kv[1] + "'");
            }
        }
        return out;
    }

    private boolean meetsSlos(ServeBenchRequest.Outcome o) {
        return (!slosMs.containsKey("ttft") || o.ttft() * 1e3 <= slosMs.get("ttft"))
                && (!slosMs.containsKey("tpot") || o.tpot() * 1e3 <= slosMs.get("tpot"))
                && (!slosMs.containsKey("e2el") || o.latency() * 1e3 <= slosMs.get("e2el"));
    }

    public double durationSeconds() {
        return duration;
    }

    public double requestThroughput() {
        return completed / duration;
    }

    public double outputThroughput() {
        return outputTokens / duration;
    }

    public double totalTokenThroughput() {
        return (inputTokens + outputTokens) / duration;
    }

    public double goodput() {
        return goodRequests / duration;
    }

    /** Linear interpolation between closest ranks (numpy's default). */
    static double percentile(double[] sorted, double p) {
        double rank = p / 100 * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    /** The report table, in vLLM's layout. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(center(" Serving Benchmark Result ", '=')).append('\n');
        settings.forEach((k, v) -> row(sb, k + ":", String.valueOf(v)));
        row(sb, "Successful requests:", Integer.toString(completed));
        row(sb, "Failed requests:", Integer.toString(failed));
        row(sb, "Benchmark duration (s):", fmt(duration));
        row(sb, "Total input tokens:", Long.toString(inputTokens));
        row(sb, "Total generated tokens:", Long.toString(outputTokens));
        row(sb, "Request throughput (req/s):", fmt(requestThroughput()));
        if (!slosMs.isEmpty()) {
            row(sb, "Request goodput (req/s):", fmt(goodput()));
        }
        row(sb, "Output token throughput (tok/s):", fmt(outputThroughput()));
        row(sb, "Total token throughput (tok/s):", fmt(totalTokenThroughput()));
        section(sb, "Time to First Token", "TTFT", ttft);
        section(sb, "Time per Output Token (excl. 1st token)", "TPOT", tpot);
        section(sb, "Inter-token Latency", "ITL", itl);
        section(sb, "End-to-end Latency", "E2EL", e2e);
        sb.append("=".repeat(50)).append('\n');
        return sb.toString();
    }

    private static void section(StringBuilder sb, String title, String name, Summary s) {
        sb.append(center(title, '-')).append('\n');
        row(sb, "Mean " + name + " (ms):", fmt(s.mean()));
        row(sb, "Median " + name + " (ms):", fmt(s.median()));
        row(sb, "P90 " + name + " (ms):", fmt(s.p90()));
        row(sb, "P99 " + name + " (ms):", fmt(s.p99()));
    }

    private static String center(String title, char fill) {
        int left = Math.max(0, (50 - title.length()) / 2);
        int right = Math.max(0, 50 - title.length() - left);
        return String.valueOf(fill).repeat(left) + title + String.valueOf(fill).repeat(right);
    }

    private static void row(StringBuilder sb, String label, String value) {
        sb.append(String.format(Locale.ROOT, "%-40s%10s%n", label, value));
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    /** The result as JSON with vLLM's field names, plus every request's lengths and timings. */
    public String json() {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode o = m.createObjectNode();
        settings.forEach((k, v) -> o.put(k.toLowerCase(Locale.ROOT).replace(' ', '_'), String.valueOf(v)));
        o.put("duration", duration);
        o.put("completed", completed);
        o.put("failed", failed);
        o.put("total_input_tokens", inputTokens);
        o.put("total_output_tokens", outputTokens);
        o.put("request_throughput", requestThroughput());
        if (!slosMs.isEmpty()) {
            o.put("request_goodput", goodput());
            slosMs.forEach((k, v) -> o.put("goodput_" + k + "_ms", v));
        }
        o.put("output_throughput", outputThroughput());
        o.put("total_token_throughput", totalTokenThroughput());
        summary(o, "ttft", ttft);
        summary(o, "tpot", tpot);
        summary(o, "itl", itl);
        summary(o, "e2el", e2e);
        ArrayNode inputLens = o.putArray("input_lens");
        ArrayNode outputLens = o.putArray("output_lens");
        ArrayNode ttfts = o.putArray("ttfts");
        ArrayNode latencies = o.putArray("e2els");
        ArrayNode itls = o.putArray("itls");
        ArrayNode errors = o.putArray("errors");
        for (ServeBenchRequest.Outcome r : outcomes) {
            inputLens.add(r.promptTokens());
            outputLens.add(r.outputTokens());
            ttfts.add(r.ttft());
            latencies.add(r.latency());
            ArrayNode gaps = itls.addArray();
            for (double g : r.itls()) {
                gaps.add(g);
            }
            errors.add(r.error() == null ? "" : r.error());
        }
        try {
            return m.writeValueAsString(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void summary(ObjectNode o, String name, Summary s) {
        o.put("mean_" + name + "_ms", s.mean());
        o.put("median_" + name + "_ms", s.median());
        o.put("p90_" + name + "_ms", s.p90());
        o.put("p99_" + name + "_ms", s.p99());
    }

    /** TTFT and end-to-end latency of every successful request against its send time, as a PNG. */
    public void plot(Path file) {
        XYChart chart = new XYChartBuilder().width(900).height(600).title("pagoda bench serve: latency by send time")
                .xAxisTitle("request sent (s from start)").yAxisTitle("latency (s)").build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(5);
        List<Double> x = new ArrayList<>();
        List<Double> ttfts = new ArrayList<>();
        List<Double> latencies = new ArrayList<>();
        for (ServeBenchRequest.Outcome r : outcomes) {
            if (r.success()) {
                x.add(r.sendSeconds());
                ttfts.add(r.ttft());
                latencies.add(r.latency());
            }
        }
        if (x.isEmpty()) {
            throw new PagodaException("no request succeeded: nothing to plot in " + file);
        }
        chart.addSeries("end-to-end", x, latencies).setMarker(SeriesMarkers.CIRCLE);
        chart.addSeries("TTFT", x, ttfts).setMarker(SeriesMarkers.DIAMOND);
        try {
            BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new PagodaException("cannot write the plot " + file + ": " + e.getMessage());
        }
    }
}
