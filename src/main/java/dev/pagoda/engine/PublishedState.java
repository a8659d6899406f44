package dev.pagoda.engine;

import dev.pagoda.kv.KvAllocator;
import dev.pagoda.scheduler.Scheduler;

/**
 * What the engine thread publishes for other threads after each loop turn: gauges every time, counters and KV
 * accounting at most every {@link EngineMetrics#PERIOD_NANOS} while busy, the block map while someone watches.
 * Readers take the latest by one volatile read; nothing waits on the engine.
 */
final class PublishedState {
    private final Scheduler<SeqState> scheduler;
    private final KvAllocator allocator;
    private final EngineStats stats;
    private final int maxModelLen;
    final BlockMapPublisher blockMaps = new BlockMapPublisher();
    private volatile EngineGauges gauges = new EngineGauges(0, 0, 0, 0, 0, 0);
    private volatile EngineMetrics metrics;
    private long metricsPublished;

    PublishedState(Scheduler<SeqState> scheduler, KvAllocator allocator, EngineStats stats, int maxModelLen) {
        this.scheduler = scheduler;
        this.allocator = allocator;
        this.stats = stats;
        this.maxModelLen = maxModelLen;
        this.metrics = new EngineMetrics(stats.snapshot(scheduler, allocator), KvCacheUsage.of(allocator.usage(maxModelLen)));
    }

    EngineGauges gauges() {
        return gauges;
    }

    EngineMetrics metrics() {
        return metrics;
    }

    /** Engine thread, after a loop turn. */
    void publish() {
        gauges = new EngineGauges(scheduler.numRunning(), scheduler.numWaiting(), scheduler.numSwapped(), allocator.usageFraction(),
                scheduler.recomputePreemptions(), scheduler.swapPreemptions());
        long now = System.nanoTime();
        if (!scheduler.hasWork() || now - metricsPublished >= EngineMetrics.PERIOD_NANOS) {
            metrics = new EngineMetrics(stats.snapshot(scheduler, allocator), KvCacheUsage.of(allocator.usage(maxModelLen)));
            metricsPublished = now;
        }
        if (blockMaps.watched()) {
            publishBlockMap();
        }
    }

    /** Engine thread: the block map of now. */
    void publishBlockMap() {
        blockMaps.publish(allocator, scheduler.running(), maxModelLen, stats.steps);
    }
}
