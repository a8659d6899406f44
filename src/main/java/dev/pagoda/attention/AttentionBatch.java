package dev.pagoda.attention;

import dev.pagoda.kv.KvSequence;
import java.util.Arrays;

/**
 * The attention view of one model step: the step's token rows, grouped by sequence, in the order they were
 * added. Row {@code t} is the token at {@code position(t)} of {@code sequence(t)}; its new K/V goes to
 * {@code slot(t)} (the slot mapping) and it attends to positions {@code 0..position(t)} of its sequence, which
 * makes a prefill chunk causal. Prefill chunks and single decode tokens mix freely.
 * Reused from step to step ({@link #clear}); arrays grow only when a step is bigger than any before.
 */
public final class AttentionBatch {
    private KvSequence[] sequences;
    private int[] tokenSequence;
    private int[] tokenPosition;
    private int[] slotMapping;
    private int numSequences;
    private int numTokens;
    private int maxContext;

    public AttentionBatch(int maxTokens, int maxSequences) {
        sequences = new KvSequence[Math.max(1, maxSequences)];
        tokenSequence = new int[Math.max(1, maxTokens)];
        tokenPosition = new int[tokenSequence.length];
        slotMapping = new int[tokenSequence.length];
    }

    public void clear() {
        Arrays.fill(sequences, 0, numSequences, null);
        numSequences = 0;
        numTokens = 0;
        maxContext = 0;
    }

    /**
     * Adds {@code count} query tokens of {@code seq} at positions {@code first..first+count-1} as the next rows.
     * Their slots must already be allocated ({@code first + count <= seq.length()}): append to the allocator first.
     */
    public void add(KvSequence seq, int first, int count) {
        if (first < 0 || count < 1 || first + count > seq.length()) {
            throw new IllegalArgumentException("positions " + first + ".." + (first + count - 1)
                    + " outside the sequence's " + seq.length() + " allocated tokens");
        }
        if (numSequences == sequences.length) {
            sequences = Arrays.copyOf(sequences, sequences.length * 2);
        }
        if (numTokens + count > tokenSequence.length) {
            int capacity = Math.max(numTokens + count, tokenSequence.length * 2);
            tokenSequence = Arrays.copyOf(tokenSequence, capacity);
            tokenPosition = Arrays.copyOf(tokenPosition, capacity);
            slotMapping = Arrays.copyOf(slotMapping, capacity);
        }
        int s = numSequences++;
        sequences[s] = seq;
        for (int i = 0; i < count; i++) {
            int t = numTokens++;
            tokenSequence[t] = s;
            tokenPosition[t] = first + i;
            slotMapping[t] = seq.slotFor(first + i);
        }
        maxContext = Math.max(maxContext, first + count);
    }

    public int numTokens() {
        return numTokens;
    }

    public int numSequences() {
        return numSequences;
    }

    /** The longest context any row attends to. */
    public int maxContext() {
        return maxContext;
    }

    public KvSequence sequence(int token) {
        return sequences[tokenSequence[token]];
    }

    public int position(int token) {
        return tokenPosition[token];
    }

    /** Where row {@code token}'s new K/V is written. */
    public int slot(int token) {
        return slotMapping[token];
    }
}
