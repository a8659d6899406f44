package dev.pagoda.scheduler;

/**
 * What one step computes: for each scheduled sequence, how many of its tokens (from its computed count
 * on). Slots for them are already allocated. Reused from step to step.
 */
public final class ScheduledBatch {
    private Sequence[] sequences = new Sequence[16];
    private int[] counts = new int[16];
    private int size;
    private int tokens;

    void clear() {
        java.util.Arrays.fill(sequences, 0, size, null);
        size = 0;
        tokens = 0;
    }

    void add(Sequence s, int n) {
        if (size == sequences.length) {
            sequences = java.util.Arrays.copyOf(sequences, size * 2);
            counts = java.util.Arrays.copyOf(counts, size * 2);
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

    public Sequence sequence(int i) {
        return sequences[i];
    }

    /** Tokens of sequence i computed this step: positions computed .. computed + count - 1. */
    public int count(int i) {
        return counts[i];
    }

    /** Whether sequence i's chunk reaches its last token, so its logits sample the next token. */
    public boolean samples(int i) {
        Sequence s = sequences[i];
        return s.computed + counts[i] == s.length();
    }
}
