package dev.pagoda.scheduler;

import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.kv.PrefixHit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Iteration-level scheduling ("continuous batching"), vLLM style. Each step: running sequences first, in
 * arrival order, each taking the tokens it still has to compute (1 when decoding, a prefill chunk otherwise)
 * under the token budget; then swapped-out sequences come back; then waiting ones are admitted (FCFS), unless
 * this step preempted. When a running sequence cannot get slots, the most recently arrived running
 * sequence is preempted (recompute or swap) until it can, possibly itself.
 * The scheduler never sees the KV layout: the allocator answers "here are the slots" or "no".
 * Not thread-safe: owned by the engine thread.
 *
 * @param <T> the caller's per-sequence state, handed back through {@link Sequence#owner()}
 */
public final class Scheduler<T> {
    private final SchedulerConfig config;
    private final KvAllocator allocator;
    private final ArrayDeque<Sequence<T>> waiting = new ArrayDeque<>();
    private final List<Sequence<T>> running = new ArrayList<>();
    private final List<Sequence<T>> runningView = Collections.unmodifiableList(running);
    private final ArrayDeque<Sequence<T>> swapped = new ArrayDeque<>();
    private final ScheduledBatch<T> batch = new ScheduledBatch<>();
    private final int watermarkBlocks;
    private long recomputePreemptions;
    private long swapPreemptions;

    public Scheduler(SchedulerConfig config, KvAllocator allocator) {
        this.config = config;
        this.allocator = allocator;
        this.watermarkBlocks = (int) Math.ceil(config.watermark() * allocator.numBlocks());
    }

    public void addWaiting(Sequence<T> s) {
        s.status = SequenceStatus.WAITING;
        waiting.addLast(s);
    }

    /**
     * A new running sequence sharing all of running {@code parent}'s tokens and K/V blocks (parallel sampling,
     * beam search), or null when the allocator cannot share blocks.
     */
    public Sequence<T> fork(Sequence<T> parent, T owner) {
        if (parent.status != SequenceStatus.RUNNING) {
            throw new IllegalArgumentException("only a running sequence forks");
        }
        if (!allocator.canFork()) {
            return null;
        }
        Sequence<T> child = new Sequence<>(owner, parent, parent.kv.fork());
        running.add(child);
        return child;
    }

    public KvAllocator allocator() {
        return allocator;
    }

    public ScheduledBatch<T> schedule() {
        batch.clear();
        int budget = config.maxNumBatchedTokens();
        boolean preempted = false;
        for (int i = 0; i < running.size() && budget > 0; ) {
            Sequence<T> s = running.get(i);
            int n = Math.min(s.length() - s.computed, budget);
            if (n == 0) {
                i++;
                continue;
            }
            boolean self = false;
            while (!s.kv.appendSlots(n)) {
                Sequence<T> victim = running.removeLast();
                preempt(victim);
                preempted = true;
                if (victim == s) {
                    self = true;
                    break;
                }
            }
            if (self) {
                break;
            }
            batch.add(s, n);
            budget -= n;
            i++;
        }
        if (!preempted) {
            budget = swapIn(budget);
            if (swapped.isEmpty()) {
                admit(budget);
            }
        }
        return batch;
    }

    /** Blocks an admission must leave free: the watermark, unless nothing runs (then nothing needs to grow). */
    private int keepFree() {
        return running.isEmpty() ? 0 : watermarkBlocks;
    }

    private int swapIn(int budget) {
        while (!swapped.isEmpty() && budget > 0 && hasRoom(swapped.peekFirst())) {
            Sequence<T> s = swapped.peekFirst();
            int n = Math.min(s.length() - s.computed, budget);
            KvSequence kv = allocator.swapIn(s.swapped, n, s.maxLength(), keepFree());
            if (kv == null) {
                break;
            }
            swapped.removeFirst();
            s.kv = kv;
            s.swapped = null;
            s.status = SequenceStatus.RUNNING;
            running.add(s);
            batch.add(s, n);
            budget -= n;
        }
        return budget;
    }

    private void admit(int budget) {
        while (!waiting.isEmpty() && budget > 0 && hasRoom(waiting.peekFirst())) {
            Sequence<T> s = waiting.peekFirst();
            // Cached full blocks of the same prefix are reused; only the rest is computed.
            PrefixHit hit = s.cacheable() ? allocator.lookupPrefix(s.tokens(), s.length()) : PrefixHit.none(allocator.blockSize());
            int n = Math.min(s.length() - hit.cachedTokens(), budget);
            KvSequence kv = allocator.allocate(hit, n, s.maxLength(), keepFree());
            if (kv == null) {
                break;
            }
            waiting.removeFirst();
            s.kv = kv;
            s.computed = hit.cachedTokens();
            s.status = SequenceStatus.RUNNING;
            running.add(s);
            batch.add(s, n);
            budget -= n;
        }
    }

    /**
     * Room under max_num_seqs for the sequence and the samples it will fork into. Running parents that have
     * not forked yet hold seats for their samples too, so a step never holds more than max_num_seqs
     * sequences.
     */
    private boolean hasRoom(Sequence<T> s) {
        int seats = 0;
        for (Sequence<T> r : running) {
            seats += r.seats();
        }
        return seats + s.seats() <= config.maxNumSeqs();
    }

    private void preempt(Sequence<T> s) {
        if (config.preemptionMode() == PreemptionMode.SWAP && (s.swapped = s.kv.swapOut(s.computed)) != null) {
            s.kv = null;
            s.status = SequenceStatus.SWAPPED;
            swapped.addFirst(s);
            swapPreemptions++;
        } else {
            s.kv.free();
            s.kv = null;
            s.computed = 0;
            s.status = SequenceStatus.WAITING;
            waiting.addFirst(s);
            recomputePreemptions++;
        }
    }

    /**
     * After the model ran the batch: the scheduled tokens now have K/V in the cache, full blocks are cached, and
     * blocks out of every layer's sliding window are released.
     */
    public void advance(ScheduledBatch<T> b) {
        for (int i = 0; i < b.size(); i++) {
            Sequence<T> s = b.sequence(i);
            s.computed += b.count(i);
            s.kv.cacheFullBlocks(s.tokens(), s.computed);
            s.kv.releaseOutOfWindow(s.computed);
        }
    }

    /** Removes a sequence in any state and frees its KV memory or swap blocks at once (finish or abort). */
    public void finish(Sequence<T> s) {
        switch (s.status) {
            case WAITING -> waiting.remove(s);
            case RUNNING -> {
                running.remove(s);
                s.kv.free();
                s.kv = null;
            }
            case SWAPPED -> {
                swapped.remove(s);
                allocator.releaseSwapped(s.swapped);
                s.swapped = null;
            }
            case FINISHED -> {
                return;
            }
        }
        s.status = SequenceStatus.FINISHED;
    }

    /** The running sequences, in the order preemption spares them (read-only view). */
    public List<Sequence<T>> running() {
        return runningView;
    }

    /** The waiting sequence admission tries next; null if none waits. */
    public Sequence<T> nextWaiting() {
        return waiting.peekFirst();
    }

    public int numRunning() {
        return running.size();
    }

    public int numWaiting() {
        return waiting.size();
    }

    public int numSwapped() {
        return swapped.size();
    }

    public boolean hasWork() {
        return !running.isEmpty() || !waiting.isEmpty() || !swapped.isEmpty();
    }

    public long recomputePreemptions() {
        return recomputePreemptions;
    }

    public long swapPreemptions() {
        return swapPreemptions;
    }
}
