package dev.pagoda.engine;

import dev.pagoda.kv.KvMemoryUsage;

/**
 * The engine's counters and KV cache accounting at one moment, published by the engine thread (when it goes
 * idle, and at most every {@link #PERIOD_NANOS} while busy) so that any thread reads them without waiting.
 */
public record EngineMetrics(EngineStats.Snapshot stats, KvMemoryUsage kv) {
    static final long PERIOD_NANOS = 100_000_000L;
}
