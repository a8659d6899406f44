package dev.pagoda.server;

import dev.pagoda.engine.EngineGauges;
import dev.pagoda.engine.EngineMetrics;
import dev.pagoda.engine.EngineStats;
import dev.pagoda.engine.LLMEngine;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The periodic engine line (as vLLM's every 10 s): prompt and generation throughput over the last interval,
 * requests running, waiting and swapped, KV cache usage and the prefix cache hit rate of the interval's lookups.
 * Written at INFO while the server is busy (and once more after, so the last throughput shows), at DEBUG when idle,
 * so an idle server's log stays quiet. Reads only what the engine already published: never waits for it.
 */
final class StatsLogger implements AutoCloseable {
    private final LLMEngine engine;
    private final ServerLog log;
    private final IntSupplier admitted;
    private final Thread thread;
    private long lastNanos = System.nanoTime();
    private long lastPrompt;
    private long lastGeneration;
    private long lastQueried;
    private long lastHits;
    private boolean lastBusy;

    /** @param admitted requests admitted by the server that produced no token yet (busy even before the engine saw them) */
    StatsLogger(LLMEngine engine, ServerLog log, IntSupplier admitted, Duration interval) {
        this.engine = engine;
        this.log = log;
        this.admitted = admitted;
        EngineStats.Snapshot s = engine.metrics().stats();
        lastPrompt = s.promptTokens();
        lastGeneration = s.generationTokens();
        lastQueried = s.prefixQueriedTokens();
        lastHits = s.prefixHitTokens();
        long every = interval.toNanos();
        this.thread = Thread.ofPlatform().name("pagoda-log-stats").daemon().start(() -> {
            try {
                while (true) {
                    Thread.sleep(Duration.ofNanos(every));
                    tick();
                }
            } catch (InterruptedException e) {
                // Closed.
            }
        });
    }

    /** Writes one line for the interval since the last. */
    synchronized void tick() {
        EngineMetrics m = engine.metrics();
        EngineStats.Snapshot s = m.stats();
        EngineGauges g = engine.gauges();
        long now = System.nanoTime();
        double seconds = Math.max(1e-9, (now - lastNanos) / 1e9);
        long prompt = s.promptTokens() - lastPrompt;
        long generation = s.generationTokens() - lastGeneration;
        long queried = s.prefixQueriedTokens() - lastQueried;
        long hits = s.prefixHitTokens() - lastHits;
        boolean busy = prompt > 0 || generation > 0 || g.running() + g.waiting() + g.swapped() > 0 || admitted.getAsInt() > 0;
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("prompt_tokens_per_s", prompt / seconds);
        f.put("generation_tokens_per_s", generation / seconds);
        f.put("running", g.running());
        f.put("waiting", g.waiting());
        f.put("swapped", g.swapped());
        f.put("kv_cache_usage_perc", 100 * m.kv().usageFraction());
        f.put("prefix_cache_hit_rate_perc", queried == 0 ? 0.0 : 100.0 * hits / queried);
        log.log(busy || lastBusy ? ServerLog.Level.INFO : ServerLog.Level.DEBUG, "stats", "", f);
        lastNanos = now;
        lastPrompt = s.promptTokens();
        lastGeneration = s.generationTokens();
        lastQueried = s.prefixQueriedTokens();
        lastHits = s.prefixHitTokens();
        lastBusy = busy;
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
