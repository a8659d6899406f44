package dev.pagoda.scheduler;

import java.util.Arrays;

/**
 * What one step computes: for each scheduled sequence, how many of its tokens (from its computed count
 * on). Slots for them are already allocated. Reused from step to step.
 *
 * @param <T> the sequences' owner state
 */
public final class ScheduledBatch<T> {
    @SuppressWarnings("unchecked")
    private Sequence<T>[] sequences = new Sequence[16];
    private int[] counts = new int[16];
    private int size;
    private int tokens;

    void clear() {
        Arrays.fill(sequences, 0, size, null);
        size = 0;
        tokens = 0;
    }

    void add(Sequence<T> s, int n) {
        if (size == sequences.length) {
            sequences = Arrays.copyOf(sequences, size * 2);
            counts = Arrays.copyOf(counts, size * 2);
        }
        sequences[size] = s;
        counts[size++] = n;
        tokens += n;
    }

    public int size() {
        return size;
    }

    public int totalTokens() {
        return tokens;
    }

    public Sequence<T> sequence(int i) {
        return sequences[i];
    }

    /** Tokens of sequence i computed this step: positions computed .. computed + count - 1. */
    public int count(int i) {
        return counts[i];
    }

    /** Whether sequence i's chunk reaches its last token, so its logits sample the next token. */
    public boolean samples(int i) {
        Sequence<T> s = sequences[i];
        return s.computed + counts[i] == s.length();
    }
}
