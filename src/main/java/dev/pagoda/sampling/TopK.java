package dev.pagoda.sampling;

/** Primitive selection and sorting of token ids by score, without boxing. */
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

    /** Sorts values[0, n) descending, permuting ids alongside (insertion sort over a small or nearly sorted prefix is not assumed). */
    static void sortDescending(float[] values, int[] ids, int n) {
        quickSort(values, ids, 0, n - 1);
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

    private static void quickSort(float[] v, int[] ids, int lo, int hi) {
        while (lo < hi) {
            float pivot = v[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j) {
                while (v[i] > pivot) {
                    i++;
                }
                while (v[j] < pivot) {
                    j--;
                }
                if (i <= j) {
                    float tv = v[i];
                    v[i] = v[j];
                    v[j] = tv;
                    int ti = ids[i];
                    ids[i] = ids[j];
                    ids[j] = ti;
                    i++;
                    j--;
                }
            }
            if (j - lo < hi - i) {
                quickSort(v, ids, lo, j);
                lo = i;
            } else {
                quickSort(v, ids, i, hi);
                hi = j;
            }
        }
    }
}
