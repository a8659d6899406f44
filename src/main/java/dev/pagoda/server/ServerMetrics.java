package dev.pagoda.server;

import dev.pagoda.engine.CompletionOutput;
import dev.pagoda.engine.EngineGauges;
import dev.pagoda.engine.EngineMetrics;
import dev.pagoda.engine.EngineStats;
import dev.pagoda.engine.FinishReason;
import dev.pagoda.engine.KvCacheUsage;
import dev.pagoda.engine.LLMEngine;
import dev.pagoda.engine.RequestMetrics;
import dev.pagoda.engine.RequestResult;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's Prometheus metrics, with vLLM's names under the prefix {@code pagoda:}: engine counters and
 * gauges read at scrape time, latency histograms observed per request (TTFT, inter-token latency, time per
 * output token, end-to-end), and the paged KV cache's accounting (slots by kind, blocks by state).
 */
public final class ServerMetrics {
    // vLLM's bucket bounds (seconds), so dashboards built for vLLM read these the same way.
    private static final long LOG_INTERVAL_NANOS = 60_000_000_000L;
    private final Histogram ttft = new Histogram("pagoda:time_to_first_token_seconds", "Time to first token, queueing included.",
            0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0);
    private final Histogram itl = new Histogram("pagoda:inter_token_latency_seconds", "Time between consecutive streamed increments of a request.",
            0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0);
    private final Histogram tpot = new Histogram("pagoda:request_time_per_output_token_seconds", "(e2e - TTFT) / (output tokens - 1) per request.",
            0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0);
    private final Histogram e2e = new Histogram("pagoda:e2e_request_latency_seconds", "Arrival to last token.",
            0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0);
    private final Histogram queue = new Histogram("pagoda:request_queue_time_seconds", "Arrival to the first step that computed the request.",
            0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0);
    private final Map<FinishReason, Long> finished = new EnumMap<>(FinishReason.class);
    private final AtomicLongArray rejected = new AtomicLongArray(Rejection.values().length);
    /** When each rejection reason was last logged (nanoTime), 0 for never: one line when a limit triggers, then one a minute. */
    private final AtomicLongArray loggedAt = new AtomicLongArray(Rejection.values().length);
    private final AtomicLongArray loggedCount = new AtomicLongArray(Rejection.values().length);
    private final LongAdder disconnected = new LongAdder();
    private final String labels;
    private final ServerLog log;

    ServerMetrics(String modelName, ServerLog log) {
        this.log = log;
        this.labels = "model_name=\"" + modelName.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    void onInterToken(long gapNanos) {
        itl.observe(gapNanos / 1e9);
    }

    /** One finished engine request: its latencies, and its finish reason (the first completion's). */
    void onFinished(RequestResult r) {
        RequestMetrics m = r.metrics();
        if (m.firstTokenNanos() != 0) {
            ttft.observe(m.ttftSeconds());
            if (m.outputTokens() > 1) {
                tpot.observe((m.finishedNanos() - m.firstTokenNanos()) / 1e9 / (m.outputTokens() - 1));
            }
        }
        e2e.observe((m.finishedNanos() - m.arrivalNanos()) / 1e9);
        if (m.firstScheduledNanos() != 0) {
            queue.observe(m.queueSeconds());
        }
        CompletionOutput c = r.output();
        synchronized (finished) {
            finished.merge(c.finishReason(), 1L, Long::sum);
        }
    }

    /** A request or connection refused by a limit: counted by reason, and logged (one line, then at most one a minute per reason). */
    void onRejected(Rejection why, String detail) {
        int i = why.ordinal();
        long total = rejected.incrementAndGet(i);
        long now = System.nanoTime();
        long last = loggedAt.get(i);
        if ((last == 0 || now - last > LOG_INTERVAL_NANOS) && loggedAt.compareAndSet(i, last, now)) {
            long since = total - loggedCount.getAndSet(i, total);
            log.warn("refused (" + why.label() + "): " + detail
                    + (since > 1 ? " [" + since + " refused for this reason since the last such line]" : "")
                    + "; counted in pagoda:requests_rejected_total");
        }
    }

    /** A client that went away before its response ended (its requests were aborted). */
    void onDisconnected() {
        disconnected.increment();
    }

    long disconnected() {
        return disconnected.sum();
    }

    long rejected(Rejection why) {
        return rejected.get(why.ordinal());
    }

    /** The Prometheus text exposition (version 0.0.4) of everything, engine state as last published (no waiting). */
    String render(LLMEngine engine) {
        EngineMetrics m = engine.metrics();
        EngineStats.Snapshot s = m.stats();
        EngineGauges g = engine.gauges();
        StringBuilder out = new StringBuilder(8192);
        gauge(out, "pagoda:num_requests_running", "Requests in the running batch.", g.running());
        gauge(out, "pagoda:num_requests_waiting", "Requests waiting to be scheduled.", g.waiting());
        gauge(out, "pagoda:num_requests_swapped", "Requests swapped out to CPU memory.", g.swapped());
        gauge(out, "pagoda:kv_cache_usage_perc", "KV cache usage, 1 is full (slots allocated or reserved over all slots).", m.kv().usageFraction());
        counter(out, "pagoda:prompt_tokens_total", "Prompt tokens computed (prefill).", s.promptTokens());
        counter(out, "pagoda:generation_tokens_total", "Tokens generated.", s.generationTokens());
        counter(out, "pagoda:num_preemptions_total", "Preemptions (recompute and swap).", s.preemptions());
        counter(out, "pagoda:num_engine_steps_total", "Engine steps run.", s.steps());
        counter(out, "pagoda:prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.", s.prefixQueriedTokens());
        counter(out, "pagoda:prefix_cache_hits_total", "Prompt tokens served by cached KV blocks.", s.prefixHitTokens());
        counter(out, "pagoda:num_requests_rejected_total", "Requests refused with 503 (waiting queue full or shutting down).",
                rejected.get(Rejection.QUEUE_FULL.ordinal()) + rejected.get(Rejection.DRAINING.ordinal()));
        out.append("# HELP pagoda:requests_rejected_total Requests and connections refused by a limit, by reason.\n");
        out.append("# TYPE pagoda:requests_rejected_total counter\n");
        for (Rejection r : Rejection.values()) {
            out.append("pagoda:requests_rejected_total{").append(labels).append(",reason=\"").append(r.label()).append("\"} ")
                    .append(rejected.get(r.ordinal())).append('\n');
        }
        counter(out, "pagoda:requests_disconnected_total", "Requests whose client went away before the response ended (aborted).",
                disconnected.sum());
        out.append("# HELP pagoda:request_success_total Finished requests by finish reason.\n");
        out.append("# TYPE pagoda:request_success_total counter\n");
        synchronized (finished) {
            for (FinishReason r : FinishReason.values()) {
                out.append("pagoda:request_success_total{").append(labels).append(",finished_reason=\"").append(r.openAiName())
                        .append("\"} ").append(finished.getOrDefault(r, 0L)).append('\n');
            }
        }
        ttft.render(out, labels);
        itl.render(out, labels);
        tpot.render(out, labels);
        e2e.render(out, labels);
        queue.render(out, labels);
        Histogram.render(out, "pagoda:iteration_tokens_total", "Tokens computed per engine step.", EngineStats.ITERATION_TOKEN_BOUNDS,
                s.iterationTokensCumulative(), s.steps(), s.batchedTokens(), labels);
        kvAccounting(out, m, g);
        return out.toString();
    }

    private void kvAccounting(StringBuilder out, EngineMetrics m, EngineGauges g) {
        KvCacheUsage kv = m.kv();
        out.append("# HELP pagoda:kv_cache_slots KV cache token slots by state (").append(kv.layout())
                .append(" layout); every slot is in exactly one of token, internal_fragmentation, reserved, free.\n");
        out.append("# TYPE pagoda:kv_cache_slots gauge\n");
        slot(out, "token", kv.tokenSlots());
        slot(out, "internal_fragmentation", kv.internalFragmentation());
        slot(out, "reserved", kv.reservedSlots());
        slot(out, "free", kv.freeSlots());
        gauge(out, "pagoda:kv_cache_external_fragmentation_slots",
                "Free slots in runs too short for a max-length request (contiguous layout only).", kv.externalFragmentation());
        gauge(out, "pagoda:kv_cache_waste_perc", "Wasted slots (internal, reserved, external) over slots in use, 1 is all waste.",
                kv.wasteFraction());
        out.append("# HELP pagoda:kv_cache_blocks KV cache blocks by state; shared blocks are also used, cached ones hold a reusable prefix (used or free).\n");
        out.append("# TYPE pagoda:kv_cache_blocks gauge\n");
        block(out, "free", kv.blocksFree());
        block(out, "used", kv.blocksUsed());
        block(out, "shared", kv.blocksShared());
        block(out, "cached", m.stats().prefixCachedBlocks());
        gauge(out, "pagoda:kv_cache_sequence_tokens", "Tokens over all live sequences (exceeds token slots by what sharing saves).",
                kv.sequenceTokens());
        counter(out, "pagoda:num_preemptions_swap_total", "Preemptions by swapping out.", g.swapPreemptions());
    }

    private void slot(StringBuilder out, String kind, long v) {
        out.append("pagoda:kv_cache_slots{").append(labels).append(",state=\"").append(kind).append("\"} ").append(v).append('\n');
    }

    private void block(StringBuilder out, String state, long v) {
        out.append("pagoda:kv_cache_blocks{").append(labels).append(",state=\"").append(state).append("\"} ").append(v).append('\n');
    }

    private void gauge(StringBuilder out, String name, String help, double v) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name).append('{').append(labels).append("} ").append(Histogram.number(v)).append('\n');
    }

    private void counter(StringBuilder out, String name, String help, long v) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" counter\n");
        out.append(name).append('{').append(labels).append("} ").append(v).append('\n');
    }
}
