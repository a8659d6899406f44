package dev.pagoda.scheduler;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * What one step computes: for each scheduled sequence, how many of its tokens (from its computed count
 * on). Slots for them are already allocated. Also the sequences the step dropped because they can never be
 * placed ({@link #ignored()}). Reused from step to step.
 *
 * @param <T> the sequences' owner state
 */
public final class ScheduledBatch<T> {
    @SuppressWarnings("unchecked")
    private Sequence<T>[] sequences = new Sequence[16];
    private int[] counts = new int[16];
    private int size;
    private int tokens;
    private final List<Sequence<T>> ignored = new ArrayList<>();
    private final List<Sequence<T>> ignoredView = Collections.unmodifiableList(ignored);

    void clear() {
        Arrays.fill(sequences, 0, size, null);
        size = 0;
        tokens = 0;
        ignored.clear();
    }

    /** Drops the entries of {@code group}'s sequences (their request was preempted); returns their tokens. */
    int removeGroup(long group) {
        int kept = 0;
        int removed = 0;
        for (int i = 0; i < size; i++) {
            if (sequences[i].group() == group) {
                removed += counts[i];
            } else {
                sequences[kept] = sequences[i];
                counts[kept++] = counts[i];
            }
        }
        Arrays.fill(sequences, kept, size, null);
        size = kept;
        tokens -= removed;
        return removed;
    }

    void ignore(Sequence<T> s) {
        ignored.add(s);
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

    /**
     * Sequences that left the scheduler this step, finished, because their group cannot be placed even with
     * nothing else running (it would need more KV memory or seats than there are): the caller ends them.
     */
    public List<Sequence<T>> ignored() {
        return ignoredView;
    }

    /** Whether sequence i's chunk reaches its last token, so its logits sample the next token. */
    public boolean samples(int i) {
        Sequence<T> s = sequences[i];
        return s.computed + counts[i] == s.length();
    }
}
