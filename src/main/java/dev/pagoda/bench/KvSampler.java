package dev.pagoda.bench;

import dev.pagoda.engine.LLMEngine;
import dev.pagoda.kv.KvMemoryUsage;

/**
 * Samples an engine's KV cache from a background thread while a benchmark runs: the usage fraction from the
 * engine's gauges (free to read) and the blocks in use from {@link LLMEngine#kvUsage()} (answered by the engine
 * thread between two steps). Peaks are those of the samples, so a peak shorter than the period can be missed.
 * Close it before the engine: a pending query needs the engine thread to answer.
 */
final class KvSampler implements AutoCloseable {
    static final long PERIOD_MILLIS = 20;

    private final LLMEngine engine;
    private final Thread thread;
    private volatile boolean stop;
    private double usageSum;
    private long samples;
    private double peakUsage;
    private int peakBlocksUsed;
    /** Fixed for the engine's life; read once here, so a run shorter than the period still has it. */
    private final int totalBlocks;

    KvSampler(LLMEngine engine) {
        this.engine = engine;
        KvMemoryUsage u = engine.kvUsage();
        this.totalBlocks = u.blocksUsed() + u.blocksFree();
        this.thread = Thread.ofPlatform().name("pagoda-kv-sampler").daemon().start(this::loop);
    }

    private void loop() {
        while (!stop) {
            sample();
            try {
                Thread.sleep(PERIOD_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void sample() {
        double usage = engine.gauges().kvUsageFraction();
        KvMemoryUsage u = engine.kvUsage();
        synchronized (this) {
            usageSum += usage;
            samples++;
            peakUsage = Math.max(peakUsage, usage);
            peakBlocksUsed = Math.max(peakBlocksUsed, u.blocksUsed());
        }
    }

    /** Stops sampling and waits for the thread. */
    @Override
    public void close() {
        stop = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    synchronized double meanUsage() {
        return samples == 0 ? 0 : usageSum / samples;
    }

    synchronized double peakUsage() {
        return peakUsage;
    }

    synchronized int peakBlocksUsed() {
        return peakBlocksUsed;
    }

    int totalBlocks() {
        return totalBlocks;
    }
}
