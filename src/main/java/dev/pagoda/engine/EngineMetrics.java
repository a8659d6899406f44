package dev.pagoda.engine;

/**
 * The engine's counters and KV cache accounting at one moment, published by the engine thread (when it goes
 * idle, and at most every {@link #PERIOD_NANOS} while busy) so that any thread reads them without waiting.
 */
public record EngineMetrics(EngineStats.Snapshot stats, KvCacheUsage kv) {
    static final long PERIOD_NANOS = 100_000_000L;
}
