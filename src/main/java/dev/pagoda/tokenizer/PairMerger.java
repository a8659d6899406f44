package dev.pagoda.tokenizer;

import java.util.Arrays;

/**
 * The BPE merge loop shared by every variant (SentencePiece scores, GPT-2 ranks, Hugging Face merges): repeatedly
 * merge the adjacent pair with the lowest rank, leftmost on ties, until no adjacent pair has a rule. Symbols are
 * token ids; negative symbols (unknown characters) never merge. One instance per encode call.
 */
final class PairMerger {
    private int[] ids = new int[0];
    private int[] next = new int[0];
    private int[] prev = new int[0];
    /** Min-heap of (rank << 32 | left position); an entry is stale once its pair changed, checked on pop. */
    private long[] heap = new long[0];
    private int heapSize;

    /** Merges {@code symbols[0..n)} in place; returns the number of symbols left (compacted to the front). */
    int merge(int[] symbols, int n, MergeTable rules) {
        if (n < 2) {
            return n;
        }
        ensure(n);
        System.arraycopy(symbols, 0, ids, 0, n);
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        heapSize = 0;
        for (int i = 0; i + 1 < n; i++) {
            offer(i, rules);
        }
        while (heapSize > 0) {
            long top = poll();
            int left = (int) top;
            int right = next[left];
            if (ids[left] == Integer.MIN_VALUE || right < 0) {
                continue;
            }
            long rule = rules.lookup(ids[left], ids[right]);
            if (rule < 0 || (rule >>> 32) != (top >>> 32)) {
                continue;
            }
            ids[left] = (int) rule;
            ids[right] = Integer.MIN_VALUE;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(prev[left], rules);
            }
            offer(left, rules);
        }
        int count = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            symbols[count++] = ids[i];
        }
        return count;
    }

    private void offer(int left, MergeTable rules) {
        int right = next[left];
        if (right < 0) {
            return;
        }
        long rule = rules.lookup(ids[left], ids[right]);
        if (rule < 0) {
            return;
        }
        long entry = (rule & 0xFFFFFFFF00000000L) | left;
        if (heapSize == heap.length) {
            heap = Arrays.copyOf(heap, Math.max(16, heapSize * 2));
        }
        int i = heapSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= entry) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = entry;
    }

    private long poll() {
        long top = heap[0];
        long last = heap[--heapSize];
        int i = 0;
        int half = heapSize >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < heapSize && heap[child + 1] < heap[child]) {
                child++;
            }
            if (last <= heap[child]) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        if (heapSize > 0) {
            heap[i] = last;
        }
        return top;
    }

    private void ensure(int n) {
        if (ids.length < n) {
            ids = new int[n];
            next = new int[n];
            prev = new int[n];
        }
    }
}
