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
        EngineGauges now = gauges;
        int running = scheduler.numRunning(), waiting = scheduler.numWaiting(), swapped = scheduler.numSwapped();
        double usage = allocator.usageFraction();
        // A new record only when a gauge moved: a steady decode step publishes without allocating.
        if (now.running() != running || now.waiting() != waiting || now.swapped() != swapped || now.kvUsageFraction() != usage
                || now.recomputePreemptions() != scheduler.recomputePreemptions() || now.swapPreemptions() != scheduler.swapPreemptions()) {
            gauges = new EngineGauges(running, waiting, swapped, usage, scheduler.recomputePreemptions(), scheduler.swapPreemptions());
        }
        long nanos = System.nanoTime();
        if (!scheduler.hasWork() || nanos - metricsPublished >= EngineMetrics.PERIOD_NANOS) {
            metrics = new EngineMetrics(stats.snapshot(scheduler, allocator), KvCacheUsage.of(allocator.usage(maxModelLen)));
            metricsPublished = nanos;
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
