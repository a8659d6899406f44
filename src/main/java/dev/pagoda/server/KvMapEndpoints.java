package dev.pagoda.server;

import dev.pagoda.engine.BlockMapPublisher;
import dev.pagoda.engine.KvBlockMap;
import dev.pagoda.engine.LLMEngine;
import java.io.IOException;

/**
 * The KV block map for viewers: {@code GET /v1/kv/blocks} (one map, taken between two steps) and
 * {@code GET /v1/kv/stream} (Server-Sent Events: each new map the engine publishes, at most every
 * {@link #MAP_PERIOD_MILLIS}, and the engine's counters with each map and at least every {@link #STATS_PERIOD_MILLIS}). The engine publishes
 * maps only while a stream watches; the JSON is written here, on the connection's thread.
 */
final class KvMapEndpoints {
    static final long MAP_PERIOD_MILLIS = 100;
    static final long STATS_PERIOD_MILLIS = 500;
    private static final long PROBE_NANOS = 200_000_000L;
    private final Serving serving;

    KvMapEndpoints(Serving serving) {
        this.serving = serving;
    }

    void blocks(Exchange ex) throws IOException {
        KvBlockMap m = serving.engine().blockMapNow();
        String json;
        try {
            json = DashboardJson.blockMap(m);
        } finally {
            m.release();
        }
        HttpIo.send(ex, 200, "application/json", json);
    }

    /** Runs until the client leaves or the server drains (then the stream ends with {@code [DONE]}). */
    void stream(Exchange ex) throws IOException, InterruptedException {
        LLMEngine engine = serving.engine();
        try (BlockMapPublisher.Watch watch = engine.watchBlockMap()) {
            SseStream sse = new SseStream(ex);
            long sentVersion = 0;
            long statsAt = 0;
            long probedAt = System.nanoTime();
            while (!serving.admission().draining()) {
                long now = System.nanoTime();
                String map = null;
                KvBlockMap m = engine.acquireBlockMap();
                if (m != null) {
                    try {
                        if (m.version() != sentVersion) {
                            sentVersion = m.version();
                            map = DashboardJson.blockMap(m);
                        }
                    } finally {
                        m.release();
                    }
                }
                // The counters go with every new map (so that the two agree), and at least every STATS_PERIOD_MILLIS.
                if (map != null || now - statsAt >= STATS_PERIOD_MILLIS * 1_000_000) {
                    statsAt = now;
                    sse.send(DashboardJson.stats(engine.gauges(), engine.metrics()));
                }
                if (map != null) {
                    sse.send(map);
                }
                if (now - probedAt >= PROBE_NANOS) {
                    probedAt = now;
                    if (ex.clientGone()) {
                        throw new IOException("the client closed the connection");
                    }
                }
                Thread.sleep(MAP_PERIOD_MILLIS);
            }
            sse.done();
        }
    }
}
