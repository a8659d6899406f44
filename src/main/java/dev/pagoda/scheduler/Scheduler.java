package dev.pagoda.scheduler;

import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.PagedAllocator;
import dev.pagoda.kv.PrefixHit;
import dev.pagoda.kv.SwapSpace;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Iteration-level scheduling ("continuous batching"), vLLM style. Each step: running sequences first, in
 * arrival order, each taking the tokens it still has to compute (1 when decoding, a prefill chunk otherwise)
 * under the token budget; then swapped-out sequences come back; then waiting ones are admitted (FCFS), unless
 * this step preempted. When a running sequence cannot get slots, the most recently arrived running
 * sequence is preempted (recompute or swap) until it can, possibly itself.
 * Not thread-safe: owned by the engine thread.
 */
public final class Scheduler {
    private final SchedulerConfig config;
    private final KvAllocator allocator;
    private final KvMemory memory;
    private final SwapSpace swap;
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    private final List<Sequence> running = new ArrayList<>();
    private final ArrayDeque<Sequence> swapped = new ArrayDeque<>();
    private final ScheduledBatch batch = new ScheduledBatch();
    private final int watermarkBlocks;
    private long recomputePreemptions;
    private long swapPreemptions;

    /** {@code memory} and {@code swap} may be null when preemption never swaps. */
    public Scheduler(SchedulerConfig config, KvAllocator allocator, KvMemory memory, SwapSpace swap) {
        this.config = config;
        this.allocator = allocator;
        this.memory = memory;
        this.swap = swap;
        int blocks = allocator.totalSlots() / allocator.blockSize();
        this.watermarkBlocks = (int) Math.ceil(config.watermark() * blocks);
    }

    public void addWaiting(Sequence s) {
        s.status = SequenceStatus.WAITING;
        waiting.addLast(s);
    }

    /** Adds a sequence forked from a running one: it already holds (shared) KV blocks. */
    public void addForked(Sequence s) {
        if (s.kv == null || s.status != SequenceStatus.RUNNING) {
            throw new IllegalArgumentException("a forked sequence must be running with its KV");
        }
        running.add(s);
    }

    public KvAllocator allocator() {
        return allocator;
    }

    public ScheduledBatch schedule() {
        batch.clear();
        int budget = config.maxNumBatchedTokens();
        boolean preempted = false;
        for (int i = 0; i < running.size() && budget > 0; ) {
            Sequence s = running.get(i);
            int n = Math.min(s.length() - s.computed, budget);
            if (n == 0) {
                i++;
                continue;
            }
            boolean self = false;
            while (!allocator.canAppend(s.kv, n)) {
                Sequence victim = running.removeLast();
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
            allocator.append(s.kv, n);
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

    private int swapIn(int budget) {
        while (!swapped.isEmpty() && budget > 0 && hasRoom(swapped.peekFirst())) {
            Sequence s = swapped.peekFirst();
            int n = Math.min(s.length() - s.computed, budget);
            if (!fits(s.computed + n, s.maxLength())) {
                break;
            }
            swapped.removeFirst();
            s.kv = allocator.admit(s.computed + n, s.maxLength());
            swap.swapIn(s.swapped, memory, s.kv);
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
            Sequence s = waiting.peekFirst();
            int n;
            if (allocator instanceof PagedAllocator p && p.prefixCaching() && s.cacheable()) {
                // Cached full blocks of the same prefix are reused; only the rest is computed.
                PrefixHit hit = p.lookupPrefix(s.tokens(), s.length());
                n = Math.min(s.length() - hit.cachedTokens(), budget);
                if (!p.canAdmitCached(hit, n, s.maxLength())
                        || (!running.isEmpty() && p.pool().freeBlocks() - p.blocksToAdmit(hit, n) < watermarkBlocks)) {
                    break;
                }
                waiting.removeFirst();
                s.kv = p.admitCached(hit, n, s.maxLength());
                s.computed = hit.cachedTokens();
            } else {
                n = Math.min(s.length() - s.computed, budget);
                if (!fits(n, s.maxLength())) {
                    break;
                }
                waiting.removeFirst();
                s.kv = allocator.admit(n, s.maxLength());
            }
            s.status = SequenceStatus.RUNNING;
            running.add(s);
            batch.add(s, n);
            budget -= n;
        }
    }

    /** Room under max_num_seqs for the sequence and the samples it will fork into; a lone one always fits. */
    private boolean hasRoom(Sequence s) {
        return running.isEmpty() || running.size() + s.width() <= config.maxNumSeqs();
    }

    /** Admission check: the slots fit, and (paged) the watermark stays free unless nothing else runs. */
    private boolean fits(int tokens, int maxLength) {
        if (!allocator.canAdmit(tokens, maxLength)) {
            return false;
        }
        if (allocator instanceof PagedAllocator p && !running.isEmpty()) {
            int needed = (tokens + p.blockSize() - 1) / p.blockSize();
            return p.pool().freeBlocks() - needed >= watermarkBlocks;
        }
        return true;
    }

    private void preempt(Sequence s) {
        if (config.preemptionMode() == PreemptionMode.SWAP && swap != null && swap.canSwapOut(s.computed)) {
            s.swapped = swap.swapOut(memory, s.kv, s.computed);
            allocator.free(s.kv);
            s.kv = null;
            s.status = SequenceStatus.SWAPPED;
            swapped.addFirst(s);
            swapPreemptions++;
        } else {
            allocator.free(s.kv);
            s.kv = null;
            s.computed = 0;
            s.status = SequenceStatus.WAITING;
            waiting.addFirst(s);
            recomputePreemptions++;
        }
    }

    /** After the model ran the batch: the scheduled tokens now have K/V in the cache. */
    public void advance(ScheduledBatch b) {
        PagedAllocator cache = allocator instanceof PagedAllocator p && p.prefixCaching() ? p : null;
        for (int i = 0; i < b.size(); i++) {
            Sequence s = b.sequence(i);
            s.computed += b.count(i);
            if (cache != null) {
                cache.cacheFullBlocks(s.kv, s.tokens(), s.computed);
            }
        }
    }

    /** Removes a sequence in any state and frees its KV memory or swap blocks at once (finish or abort). */
    public void finish(Sequence s) {
        switch (s.status) {
            case WAITING -> waiting.remove(s);
            case RUNNING -> {
                running.remove(s);
                allocator.free(s.kv);
                s.kv = null;
            }
            case SWAPPED -> {
                swapped.remove(s);
                swap.release(s.swapped);
                s.swapped = null;
            }
            case FINISHED -> {
                return;
            }
        }
        s.status = SequenceStatus.FINISHED;
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
