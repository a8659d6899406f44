package dev.pagoda.engine;

/**
 * A cheap, slightly stale view of the engine for other threads (admission control, metrics): published
 * by the engine thread after every step and command batch.
 *
 * @param kvUsageFraction KV slots allocated or reserved over all slots
 */
public record EngineGauges(int running, int waiting, int swapped, double kvUsageFraction, long recomputePreemptions,
                           long swapPreemptions) {
}
