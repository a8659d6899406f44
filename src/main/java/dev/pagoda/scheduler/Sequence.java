package dev.pagoda.scheduler;

import dev.pagoda.kv.KvSequence;
import dev.pagoda.kv.SwapSpace;
import java.util.Arrays;

/**
 * One token sequence as the scheduler sees it: its tokens (prompt, then generated), how many of them have
 * K/V in the cache ({@code computed}), and where that K/V lives. Prefill and decode are the same thing:
 * each step computes some of the tokens in [computed, length). Invariant while RUNNING:
 * {@code kv.length() == computed} between steps.
 */
public class Sequence {
    private final long arrival;
    private int[] tokens;
    private final int promptLength;
    private final int maxLength;
    private int length;
    int computed;
    SequenceStatus status = SequenceStatus.WAITING;
    KvSequence kv;
    SwapSpace.Handle swapped;

    /**
     * @param arrival   FCFS order: lower arrives earlier (and is preempted later)
     * @param maxLength the most tokens this sequence can ever hold (prompt + max new tokens, capped by the
     *                  model length): what the contiguous layout reserves
     */
    public Sequence(long arrival, int[] prompt, int maxLength) {
        if (prompt.length == 0 || maxLength < prompt.length) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens, max length " + maxLength);
        }
        this.arrival = arrival;
        this.tokens = Arrays.copyOf(prompt, Math.min(maxLength, prompt.length + 16));
        this.promptLength = prompt.length;
        this.maxLength = maxLength;
        this.length = prompt.length;
    }

    /** A sequence sharing a parent's tokens and computed K/V (parallel sampling, beam search). */
    protected Sequence(long arrival, Sequence parent, KvSequence forkedKv) {
        this.arrival = arrival;
        this.tokens = Arrays.copyOf(parent.tokens, parent.tokens.length);
        this.promptLength = parent.promptLength;
        this.maxLength = parent.maxLength;
        this.length = parent.length;
        this.computed = parent.computed;
        this.kv = forkedKv;
        this.status = SequenceStatus.RUNNING;
    }

    public long arrival() {
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
     * Sequences this one will occupy once running: more than 1 for a parent that forks into parallel samples
     * after its prefill, so admission keeps room for them under max_num_seqs.
     */
    public int width() {
        return 1;
    }

    /** Whether admission may reuse cached prefix blocks (not when every prompt position's logits are wanted). */
    public boolean cacheable() {
        return true;
    }

    public int lastToken() {
        return tokens[length - 1];
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
