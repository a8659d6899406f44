package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.scheduler.PreemptionMode;
import dev.pagoda.scheduler.ScheduledBatch;
import dev.pagoda.scheduler.Scheduler;
import dev.pagoda.scheduler.SchedulerConfig;
import dev.pagoda.scheduler.Sequence;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

/**
 * Runs the engine's {@link Scheduler} over an allocator without a model, so the memory benchmarks replay the one
 * scheduling policy the engine has (watermark, FCFS admission, preemption of the latest by recomputation). A step
 * schedules, marks the scheduled tokens computed, and appends a token (its value does not matter) to every
 * sequence whose chunk reached its end, as sampling would; a sequence finishes when it holds its output length.
 * No token budget: prompts are prefilled whole, as one chunk.
 *
 * @param <T> the caller's per-sequence state
 */
final class ModelFreeReplay<T> {
    private final Scheduler<T> scheduler;
    private final ToIntFunction<T> outputTokens;
    private long arrivals;
    private int steps;

    /** @param outputTokens each sequence's output length, read from its owner */
    ModelFreeReplay(KvAllocator allocator, int maxNumSeqs, ToIntFunction<T> outputTokens) {
        this.scheduler = new Scheduler<>(new SchedulerConfig(maxNumSeqs, Integer.MAX_VALUE, PreemptionMode.RECOMPUTE,
                EngineConfig.WATERMARK), allocator);
        this.outputTokens = outputTokens;
    }

    Scheduler<T> scheduler() {
        return scheduler;
    }

    /** Queues a sequence with {@code prompt} as its tokens and at most {@code maxLength} tokens ever. */
    Sequence<T> add(T owner, int[] prompt, int maxLength) {
        Sequence<T> s = new Sequence<>(owner, arrivals++, prompt, maxLength);
        scheduler.addWaiting(s);
        return s;
    }

    /**
     * Steps until every sequence finished. After each step's slots are allocated (before sequences finish),
     * {@code observe} reads the scheduler; {@code sampled} sees each sequence that got a new token and has not
     * finished (where samples fork).
     */
    void run(Consumer<Scheduler<T>> observe, Consumer<Sequence<T>> sampled) {
        while (scheduler.hasWork()) {
            steps++;
            long preemptionsBefore = scheduler.recomputePreemptions();
            ScheduledBatch<T> batch = scheduler.schedule();
            if (!batch.ignored().isEmpty()) {
                Sequence<T> never = batch.ignored().getFirst();
                throw new PagodaException("a request with a " + never.promptLength() + "-token prompt (at most "
                        + never.maxLength() + " tokens" + (batch.ignored().size() > 1 ? " in each of "
                        + batch.ignored().size() + " sequences" : "") + ") never fits the KV budget of "
                        + scheduler.allocator().totalSlots() + " slots");
            }
            if (batch.size() == 0 && scheduler.recomputePreemptions() == preemptionsBefore) {
                throw new IllegalStateException("the replay made no progress");
            }
            scheduler.advance(batch);
            observe.accept(scheduler);
            for (int i = 0; i < batch.size(); i++) {
                Sequence<T> s = batch.sequence(i);
                if (s.computed() < s.length()) {
                    continue;
                }
                s.append(0);
                if (s.outputLength() >= outputTokens.applyAsInt(s.owner())) {
                    scheduler.finish(s);
                } else {
                    sampled.accept(s);
                }
            }
        }
        int used = scheduler.allocator().usedBlocks();
        if (used != 0) {
            throw new IllegalStateException(used + " KV blocks not back in the pool after the replay");
        }
    }

    int steps() {
        return steps;
    }

    long preemptions() {
        return scheduler.recomputePreemptions();
    }
}
