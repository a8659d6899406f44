package dev.pagoda.scheduler;

import dev.pagoda.kv.KvSequence;
import dev.pagoda.kv.SwapSpace;
import java.util.Arrays;

/**
 * One token sequence as the scheduler sees it: its tokens (prompt, then generated), how many of them have
 * K/V in the cache ({@code computed}), and where that K/V lives. Prefill and decode are the same thing:
 * each step computes some of the tokens in [computed, length). Invariant while RUNNING:
 * {@code kv.length() == computed} between steps (a recomputed follower
 * waiting to fork from its group's leader has no kv yet). The caller's own state for the sequence is its
 * {@code owner}, which the scheduled batch hands back (no downcast).
 *
 * @param <T> the caller's per-sequence state
 */
public final class Sequence<T> {
    private final T owner;
    private final long arrival;
    private int[] tokens;
    private final int promptLength;
    private final int maxLength;
    private int length;
    int computed;
    SequenceStatus status = SequenceStatus.WAITING;
    KvSequence kv;
    SwapSpace.Handle swapped;
    /*
     * Recomputing a group together (see Scheduler#preemptGroup): a follower holds no K/V until its leader has
     * computed the first {@code shared} tokens, which they have in common, then forks from it; the leader computes
     * no further than {@code forkAt} (> 0 while it has followers) before they fork.
     */
    Sequence<T> leader;
    int shared;
    int forkAt;
    private int seats = 1;
    private boolean cacheable = true;
    private boolean sharesOnRecompute = true;

    /**
     * @param arrival   FCFS order: lower arrives earlier (and is preempted later). A request's sequences share it:
     *                  it is their group ({@link #group()})
     * @param maxLength the most tokens this sequence can ever hold (prompt + max new tokens, capped by the
     *                  model length): what the contiguous layout reserves
     */
    public Sequence(T owner, long arrival, int[] prompt, int maxLength) {
        if (prompt.length == 0 || maxLength < prompt.length) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens, max length " + maxLength);
        }
        this.owner = owner;
        this.arrival = arrival;
        this.tokens = Arrays.copyOf(prompt, Math.min(maxLength, prompt.length + 16));
        this.promptLength = prompt.length;
        this.maxLength = maxLength;
        this.length = prompt.length;
    }

    /**
     * A running sequence of a parent's group with its tokens, placed in {@code kv}: sharing the parent's computed
     * K/V (a fork: parallel sampling, beam search), or empty (a copy: the caller sets computed to 0).
     */
    Sequence(T owner, Sequence<T> parent, KvSequence kv) {
        this.owner = owner;
        this.arrival = parent.arrival;
        this.tokens = Arrays.copyOf(parent.tokens, parent.tokens.length);
        this.promptLength = parent.promptLength;
        this.maxLength = parent.maxLength;
        this.length = parent.length;
        this.computed = parent.computed;
        this.sharesOnRecompute = parent.sharesOnRecompute;
        this.kv = kv;
        this.status = SequenceStatus.RUNNING;
    }

    public T owner() {
        return owner;
    }

    public long arrival() {
        return arrival;
    }

    /**
     * The request this sequence belongs to, its arrival: forks inherit it, so a request's samples or beams are one
     * group, preempted and admitted together.
     */
    public long group() {
        return arrival;
    }

    public int[] tokens() {
        return tokens;
    }

    public int length() {
        return length;
    }

    public int promptLength() {
        return promptLength;
    }

    public int outputLength() {
        return length - promptLength;
    }

    public int maxLength() {
        return maxLength;
    }

    public int computed() {
        return computed;
    }

    public SequenceStatus status() {
        return status;
    }

    public KvSequence kv() {
        return kv;
    }

    /**
     * Seats under max_num_seqs this sequence holds: more than 1 for a parent that will fork into parallel
     * samples or beams after its prefill, so admission keeps room for them. 1 by default.
     */
    public int seats() {
        return seats;
    }

    public void setSeats(int seats) {
        if (seats < 1) {
            throw new IllegalArgumentException("seats " + seats);
        }
        this.seats = seats;
    }

    /** Whether admission may reuse cached prefix blocks (not when every prompt position's logits are wanted). */
    public boolean cacheable() {
        return cacheable;
    }

    public void setCacheable(boolean cacheable) {
        this.cacheable = cacheable;
    }

    /**
     * Whether a recompute of its group may share this sequence's common prefix with its siblings (true by default;
     * the memory benchmark's baseline without sharing says no, and copies inherit it).
     */
    public boolean sharesOnRecompute() {
        return sharesOnRecompute;
    }

    public void setSharesOnRecompute(boolean shares) {
        this.sharesOnRecompute = shares;
    }

    /** Appends a generated token (its K/V is computed next step). */
    public void append(int token) {
        if (length == maxLength) {
            throw new IllegalStateException("sequence is at its maximum length " + maxLength);
        }
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, Math.min(maxLength, tokens.length * 2));
        }
        tokens[length++] = token;
    }
}
