package dev.pagoda.sampling;

/** Primitive selection of the best token ids by score, without boxing. */
final class TopK {
    private TopK() {
    }

    /**
     * Rearranges ids[0, n) so that ids[0, k) hold the k ids of highest score (ties: lower id first), in
     * descending score order.
     */
    static void select(float[] scores, int off, int[] ids, int n, int k) {
        // A bounded min-heap of the k best keeps this O(n log k).
        int size = 0;
        for (int i = 0; i < n; i++) {
            int id = ids[i];
            if (size < k) {
                ids[size] = id;
                siftUp(scores, off, ids, size++);
            } else if (better(scores, off, id, ids[0])) {
                ids[0] = id;
                siftDown(scores, off, ids, 0, size);
            }
        }
        for (int end = size - 1; end > 0; end--) {
            int t = ids[0];
            ids[0] = ids[end];
            ids[end] = t;
            siftDown(scores, off, ids, 0, end);
        }
    }

    private static boolean better(float[] s, int off, int a, int b) {
        float va = s[off + a], vb = s[off + b];
        return va > vb || (va == vb && a < b);
    }

    private static void siftUp(float[] s, int off, int[] h, int i) {
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (!better(s, off, h[p], h[i])) {
                break;
            }
            int t = h[p];
            h[p] = h[i];
            h[i] = t;
            i = p;
        }
    }

    private static void siftDown(float[] s, int off, int[] h, int i, int size) {
        while (true) {
            int l = 2 * i + 1, r = l + 1, worst = i;
            if (l < size && better(s, off, h[worst], h[l])) {
                worst = l;
            }
            if (r < size && better(s, off, h[worst], h[r])) {
                worst = r;
            }
            if (worst == i) {
                return;
            }
            int t = h[worst];
            h[worst] = h[i];
            h[i] = t;
            i = worst;
        }
    }
}
