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
 * this step preempted. The scheduler never sees the KV layout: the allocator answers "here are the slots" or "no".
 *
 * <p>A request's sequences (its parallel samples or beams, which share its arrival: {@link Sequence#group()}) are
 * scheduled as a group, as vLLM v0's sequence groups: when a running sequence cannot get slots, the latest
 * running request is preempted with all its sequences, until the sequence fits or its own request was the
 * latest; a group is admitted whole or not at all. So a beam never waits for a sibling that waits for memory
 * the beam holds. A single sequence is preempted by swapping when configured and the swap space has room, a
 * group of several by recomputation: its first sequence (the leader) recomputes the tokens the group has in
 * common once, then the others fork from it, sharing those blocks again as they did before, and each recomputes
 * only its own suffix. A
 * group that cannot be placed even with nothing else running never will be: it leaves the scheduler and the
 * step reports it ({@link ScheduledBatch#ignored()}).
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
    private final List<Sequence<T>> victims = new ArrayList<>();
    private final int watermarkBlocks;
    private long recomputePreemptions;
    private long swapPreemptions;

    public Scheduler(SchedulerConfig config, KvAllocator allocator) {
        this.config = config;
        this.allocator = allocator;
        this.watermarkBlocks = (int) Math.ceil(config.watermark() * allocator.numBlocks());
    }

    /** Queues a sequence; a request's sequences are added one after the other. */
    public void addWaiting(Sequence<T> s) {
        s.status = SequenceStatus.WAITING;
        waiting.addLast(s);
    }

    /**
     * A new running sequence of {@code parent}'s group sharing all of running {@code parent}'s tokens and K/V
     * blocks (parallel sampling, beam search), or null when the allocator cannot share blocks.
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

    /**
     * A new running sequence of {@code parent}'s group with all of running {@code parent}'s tokens and none of its
     * K/V: it computes a private copy of them from the next step on (a beam forked
     * without block sharing, as the memory benchmark measures it). Null when the allocator cannot place even an
     * empty sequence now (the contiguous layout reserves its maximum length).
     */
    public Sequence<T> copy(Sequence<T> parent, T owner) {
        if (parent.status != SequenceStatus.RUNNING) {
            throw new IllegalArgumentException("only a running sequence is copied");
        }
        KvSequence kv = allocator.allocate(PrefixHit.none(allocator.blockSize()), 0, parent.maxLength(), 0);
        if (kv == null) {
            return null;
        }
        Sequence<T> child = new Sequence<>(owner, parent, kv);
        child.computed = 0;
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
            if (s.forkAt > 0) {
                n = Math.min(n, s.forkAt - s.computed);
            }
            if (n == 0 || s.leader != null) {
                i++;
                continue;
            }
            boolean self = false;
            while (!self && !s.kv.appendSlots(n)) {
                long victim = latestRunningGroup();
                // Members of the victim before s were scheduled already: they leave the batch too.
                i -= preemptGroup(victim, i);
                budget += batch.removeGroup(victim);
                preempted = true;
                self = victim == s.group();
            }
            if (self) {
                continue;
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

    /**
     * Blocks an admission must leave free: the watermark, and with growth room a block for each running sequence
     * that will need one more than it holds; none when nothing runs (then nothing needs to grow).
     */
    private int keepFree() {
        if (running.isEmpty()) {
            return 0;
        }
        int keep = watermarkBlocks;
        if (config.growthRoom()) {
            int b = allocator.blockSize();
            for (Sequence<T> r : running) {
                // A follower waiting for its leader's fork holds nothing yet, and will copy the shared last block.
                int held = r.kv == null ? 0 : (r.kv.length() + b - 1) / b;
                keep += r.maxLength() > held * b ? 1 : 0;
            }
        }
        return keep;
    }

    /** Swapped sequences are groups of one (see {@link #preemptGroup}): each comes back on its own. */
    private int swapIn(int budget) {
        while (!swapped.isEmpty() && budget > 0 && hasRoom(swapped.peekFirst().seats())) {
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

    /**
     * Admits waiting groups in FCFS order, each whole or not at all: a group placed only in part is rolled back
     * (its blocks freed), so no sequence runs while a sibling waits. A member the budget leaves no tokens for is
     * placed and computes from the next step. A group that does not fit with nothing running is ignored.
     */
    private void admit(int budget) {
        while (!waiting.isEmpty() && budget > 0) {
            int size = groupSizeAtHead();
            int seats = 0;
            int k = 0;
            for (Sequence<T> s : waiting) {
                if (k++ == size) {
                    break;
                }
                seats += s.seats();
            }
            boolean placed = hasRoom(seats) && place(size, budget);
            if (!placed && !running.isEmpty()) {
                return;
            }
            for (int j = 0; j < size; j++) {
                Sequence<T> s = waiting.removeFirst();
                if (!placed) {
                    s.status = SequenceStatus.FINISHED;
                    batch.ignore(s);
                    continue;
                }
                int n = s.length() - s.computed;
                if (s.forkAt > 0) {
                    n = Math.min(n, s.forkAt - s.computed);
                }
                s.status = SequenceStatus.RUNNING;
                running.add(s);
                if (n > 0 && budget > 0 && s.leader == null) {
                    n = Math.min(n, budget);
                    batch.add(s, n);
                    budget -= n;
                }
            }
        }
    }

    /**
     * Tries to give the first {@code size} waiting sequences their slots (cached prefix blocks reused, then a chunk
     * of at most the budget): all get them (kv set, computed at the prefix hit), or none, nothing changed.
     */
    private boolean place(int size, int budget) {
        int keepFree = keepFree();
        int k = 0;
        for (Sequence<T> s : waiting) {
            if (k == size) {
                break;
            }
            if (s.leader != null && s.leader.forkAt > 0) {
                k++;
                continue;
            }
            s.leader = null;
            PrefixHit hit = s.cacheable() ? allocator.lookupPrefix(s.tokens(), s.length()) : PrefixHit.none(allocator.blockSize());
            if (s.forkAt <= hit.cachedTokens()) {
                // The cache already holds the common prefix: the others find it there too (as private copies do).
                s.forkAt = 0;
            }
            int n = Math.min(s.length() - hit.cachedTokens(), budget);
            if (s.forkAt > 0) {
                n = Math.min(n, s.forkAt - hit.cachedTokens());
            }
            KvSequence kv = allocator.allocate(hit, n, s.maxLength(), keepFree);
            if (kv == null) {
                int j = 0;
                for (Sequence<T> undo : waiting) {
                    if (j++ == k) {
                        break;
                    }
                    if (undo.kv == null) {
                        continue;
                    }
                    undo.kv.free();
                    undo.kv = null;
                    undo.computed = 0;
                }
                return false;
            }
            s.kv = kv;
            s.computed = hit.cachedTokens();
            budget -= n;
            k++;
        }
        return true;
    }

    /** Waiting sequences at the head of the queue that belong to the head's group (they are queued together). */
    private int groupSizeAtHead() {
        long group = waiting.peekFirst().group();
        int size = 0;
        for (Sequence<T> s : waiting) {
            if (s.group() != group) {
                break;
            }
            size++;
        }
        return size;
    }

    /**
     * Room under max_num_seqs for {@code seats} more. Running parents that have not forked yet hold seats for
     * their samples too, so a step never holds more than max_num_seqs sequences.
     */
    private boolean hasRoom(int seats) {
        int held = 0;
        for (Sequence<T> r : running) {
            held += r.seats();
        }
        return held + seats <= config.maxNumSeqs();
    }

    /** The group of the latest request that has running sequences: the next to be preempted. */
    private long latestRunningGroup() {
        long latest = Long.MIN_VALUE;
        for (Sequence<T> r : running) {
            latest = Math.max(latest, r.group());
        }
        return latest;
    }

    /**
     * Preempts every running sequence of {@code group}: one alone swaps out when the mode is swap and the swap
     * space has room; otherwise all free their blocks and wait at the head of the queue, in their order, to be
     * recomputed, the first leading the others through the tokens they all have in common ({@link #lead}).
     * Returns how many of them stood before running index {@code before}.
     */
    private int preemptGroup(long group, int before) {
        victims.clear();
        int removedBefore = 0;
        for (int i = running.size() - 1; i >= 0; i--) {
            if (running.get(i).group() == group) {
                victims.add(running.remove(i));
                if (i < before) {
                    removedBefore++;
                }
            }
        }
        Sequence<T> only = victims.size() == 1 ? victims.getFirst() : null;
        if (only != null && config.preemptionMode() == PreemptionMode.SWAP && (only.swapped = only.kv.swapOut(only.computed)) != null) {
            only.kv = null;
            only.status = SequenceStatus.SWAPPED;
            swapped.addFirst(only);
            swapPreemptions++;
            return removedBefore;
        }
        // victims holds the group in reverse running order: adding each first restores that order.
        for (Sequence<T> s : victims) {
            if (s.kv != null) {
                s.kv.free();
            }
            s.kv = null;
            s.computed = 0;
            s.leader = null;
            s.forkAt = 0;
            s.status = SequenceStatus.WAITING;
            waiting.addFirst(s);
        }
        lead(victims);
        recomputePreemptions++;
        return removedBefore;
    }

    /**
     * Links a recomputed group (in reverse running order) so it shares its common prefix again: the longest token
     * prefix all its sequences have, short of each one's last token (whose logits each needs), when it spans a
     * whole block at least (a shorter one would share nothing). Only where the allocator can fork and every
     * sequence {@link Sequence#sharesOnRecompute()}.
     */
    private void lead(List<Sequence<T>> group) {
        if (group.size() < 2 || !allocator.canFork()) {
            return;
        }
        Sequence<T> leader = group.getLast();
        int common = leader.length() - 1;
        for (Sequence<T> s : group) {
            if (!s.sharesOnRecompute()) {
                return;
            }
            common = Math.min(common, s.length() - 1);
            int p = 0;
            while (p < common && s.tokens()[p] == leader.tokens()[p]) {
                p++;
            }
            common = p;
        }
        if (common < allocator.blockSize()) {
            return;
        }
        leader.forkAt = common;
        for (Sequence<T> s : group) {
            if (s != leader) {
                s.leader = leader;
                s.shared = common;
            }
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
            if (s.forkAt > 0 && s.computed == s.forkAt) {
                forkFollowers(s);
            }
        }
    }

    /**
     * The leader has computed the common prefix (its table holds exactly those tokens): its followers fork from it
     * and go on from there (copy-on-write of a partly filled last block, as for any fork).
     */
    private void forkFollowers(Sequence<T> leader) {
        leader.forkAt = 0;
        for (Sequence<T> r : running) {
            if (r.leader == leader) {
                r.kv = leader.kv.fork();
                r.computed = r.shared;
                r.leader = null;
            }
        }
    }

    /** Removes a sequence in any state and frees its KV memory or swap blocks at once (finish or abort). */
    public void finish(Sequence<T> s) {
        switch (s.status) {
            case WAITING -> {
                waiting.remove(s);
                release(s);
            }
            case RUNNING -> {
                running.remove(s);
                if (s.kv != null) {
                    s.kv.free();
                }
                s.kv = null;
                release(s);
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

    /**
     * A leader that leaves before its followers forked hands them a private recompute: each gets an empty place
     * (paged: no blocks) and computes all of its tokens.
     */
    private void release(Sequence<T> s) {
        s.leader = null;
        if (s.forkAt == 0) {
            return;
        }
        s.forkAt = 0;
        for (Sequence<T> r : running) {
            if (r.leader == s) {
                r.leader = null;
                r.kv = allocator.allocate(PrefixHit.none(allocator.blockSize()), 0, r.maxLength(), 0);
            }
        }
        for (Sequence<T> w : waiting) {
            if (w.leader == s) {
                w.leader = null;
            }
        }
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
