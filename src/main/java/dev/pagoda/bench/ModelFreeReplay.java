package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.scheduler.PreemptionMode;
import dev.pagoda.scheduler.ScheduledBatch;
import dev.pagoda.scheduler.Scheduler;
import dev.pagoda.scheduler.SchedulerConfig;
import dev.pagoda.scheduler.Sequence;
import dev.pagoda.scheduler.SequenceStatus;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

/**
 * Runs the engine's {@link Scheduler} over an allocator without a model, so the memory benchmarks replay the one
 * scheduling policy the engine has (watermark, FCFS admission of whole requests, preemption of the latest request
 * by recomputation). A step schedules, marks the scheduled tokens computed, and hands every sequence whose chunk
 * reached its end to the caller, as the model's logits would be: {@link #sampleToken} appends a token (its value
 * does not matter) and finishes the sequence when it holds its output length; the caller may fork first (parallel
 * samples, beams). No token budget: prompts are prefilled whole, as one chunk.
 *
 * @param <T> the caller's per-sequence state
 */
final class ModelFreeReplay<T> {
    private final Scheduler<T> scheduler;
    private final ToIntFunction<T> outputTokens;
    private int steps;

    /** @param outputTokens each sequence's output length, read from its owner */
    ModelFreeReplay(KvAllocator allocator, int maxNumSeqs, ToIntFunction<T> outputTokens) {
        this.scheduler = new Scheduler<>(new SchedulerConfig(maxNumSeqs, Integer.MAX_VALUE, PreemptionMode.RECOMPUTE,
                EngineConfig.WATERMARK, EngineConfig.defaults().growthRoom()), allocator);
        this.outputTokens = outputTokens;
    }

    Scheduler<T> scheduler() {
        return scheduler;
    }

    /**
     * Queues a sequence of request {@code request} (its FCFS rank; a request's sequences are queued together) with
     * {@code prompt} as its tokens and at most {@code maxLength} tokens ever.
     */
    Sequence<T> add(long request, T owner, int[] prompt, int maxLength) {
        Sequence<T> s = new Sequence<>(owner, request, prompt, maxLength);
        scheduler.addWaiting(s);
        return s;
    }

    /**
     * Steps until every sequence finished. After each step's slots are allocated and computed, {@code observe}
     * reads the scheduler; then {@code sampled} sees each running sequence that has all its tokens computed, in
     * batch order (a sequence that an earlier call finished or extended is skipped).
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
                if (s.status() == SequenceStatus.RUNNING && s.computed() == s.length()) {
                    sampled.accept(s);
                }
            }
        }
        int used = scheduler.allocator().usedBlocks();
        if (used != 0) {
            throw new IllegalStateException(used + " KV blocks not back in the pool after the replay");
        }
    }

    /** The sequence's next token: appended; the sequence finishes when it holds its output length. */
    void sampleToken(Sequence<T> s) {
        s.append(0);
        if (s.outputLength() >= outputTokens.applyAsInt(s.owner())) {
            scheduler.finish(s);
        }
    }

    int steps() {
        return steps;
    }

    long preemptions() {
        return scheduler.recomputePreemptions();
    }
}
