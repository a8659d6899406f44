package dev.pagoda.sampling;

/**
 * How often each generated token occurred, as an open-addressing table (linear probing) instead of an
 * int per vocabulary entry: a request produces at most max_tokens distinct ids, far fewer than a 128k
 * vocabulary. Sized up front for the expected distinct count at load at most 1/2, so counting allocates
 * nothing; it only grows (doubling) if more distinct tokens arrive than it was sized for.
 */
final class TokenCounts {
    private int[] slots;   // index of the entry + 1; 0 marks an empty slot
    private int[] tokens;  // entries in first-seen order, so iteration is O(distinct)
    private int[] counts;  // parallel to tokens
    private int size;

    TokenCounts(int expectedDistinct) {
        allocate(Math.max(1, expectedDistinct));
    }

    void increment(int token) {
        int s = find(token);
        if (slots[s] == 0) {
            if (size == tokens.length) {
                grow();
                s = find(token);
            }
            tokens[size] = token;
            slots[s] = ++size;
        }
        counts[slots[s] - 1]++;
    }

    /** Distinct tokens counted so far. */
    int size() {
        return size;
    }

    /** The i-th distinct token, in first-seen order. */
    int token(int i) {
        return tokens[i];
    }

    /** Occurrences of the i-th distinct token. */
    int count(int i) {
        return counts[i];
    }

    /** Slot of token, or the empty slot where it would go; terminates because load stays at most 1/2. */
    private int find(int token) {
        int mask = slots.length - 1;
        int s = mix(token) & mask;
        while (slots[s] != 0 && tokens[slots[s] - 1] != token) {
            s = (s + 1) & mask;
        }
        return s;
    }

    private void grow() {
        int[] oldTokens = tokens, oldCounts = counts;
        allocate(2 * tokens.length);
        System.arraycopy(oldTokens, 0, tokens, 0, size);
        System.arraycopy(oldCounts, 0, counts, 0, size);
        for (int i = 0; i < size; i++) {
            slots[find(tokens[i])] = i + 1;
        }
    }

    private void allocate(int distinct) {
        slots = new int[Integer.highestOneBit(2 * distinct - 1) << 1];
        tokens = new int[distinct];
        counts = new int[distinct];
    }

    private static int mix(int x) {
        int h = x * 0x9E3779B9;
        return h ^ (h >>> 16);
    }
}
