package dev.pagoda.constraint;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A set of Unicode scalar values as sorted, disjoint, non-adjacent inclusive ranges [lo0, hi0, lo1, hi1, ...].
 * Surrogates (U+D800..U+DFFF) are never members: they have no UTF-8 encoding.
 */
record CodePoints(int[] ranges) {
    static final int MAX = 0x10FFFF;
    static final CodePoints ALL = of(0, MAX);
    static final CodePoints NONE = new CodePoints(new int[0]);

    static CodePoints of(int lo, int hi) {
        return normalize(new int[] {lo, hi});
    }

    /** Union of the given inclusive ranges, in any order, surrogates removed. */
    static CodePoints normalize(int[] pairs) {
        int n = pairs.length / 2;
        long[] packed = new long[n];
        for (int i = 0; i < n; i++) {
            packed[i] = ((long) pairs[2 * i] << 32) | pairs[2 * i + 1];
        }
        Arrays.sort(packed);
        List<int[]> out = new ArrayList<>();
        for (long p : packed) {
            int lo = (int) (p >>> 32), hi = (int) p;
            if (lo > hi) {
                continue;
            }
            if (!out.isEmpty() && lo <= out.getLast()[1] + 1) {
                out.getLast()[1] = Math.max(out.getLast()[1], hi);
            } else {
                out.add(new int[] {lo, hi});
            }
        }
        List<Integer> flat = new ArrayList<>();
        for (int[] r : out) {
            // Split around the surrogate block.
            if (r[0] <= 0xDFFF && r[1] >= 0xD800) {
                if (r[0] < 0xD800) {
                    flat.add(r[0]);
                    flat.add(0xD7FF);
                }
                if (r[1] > 0xDFFF) {
                    flat.add(0xE000);
                    flat.add(r[1]);
                }
            } else {
                flat.add(r[0]);
                flat.add(r[1]);
            }
        }
        return new CodePoints(flat.stream().mapToInt(Integer::intValue).toArray());
    }

    CodePoints union(CodePoints o) {
        int[] all = Arrays.copyOf(ranges, ranges.length + o.ranges.length);
        System.arraycopy(o.ranges, 0, all, ranges.length, o.ranges.length);
        return normalize(all);
    }

    CodePoints complement() {
        List<Integer> flat = new ArrayList<>();
        int next = 0;
        for (int i = 0; i < ranges.length; i += 2) {
            if (ranges[i] > next) {
                flat.add(next);
                flat.add(ranges[i] - 1);
            }
            next = ranges[i + 1] + 1;
        }
        if (next <= MAX) {
            flat.add(next);
            flat.add(MAX);
        }
        return normalize(flat.stream().mapToInt(Integer::intValue).toArray());
    }

    CodePoints intersect(CodePoints o) {
        return complement().union(o.complement()).complement();
    }

    boolean isEmpty() {
        return ranges.length == 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CodePoints c && Arrays.equals(ranges, c.ranges);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ranges);
    }

    @Override
    public String toString() {
        return Arrays.toString(ranges);
    }
}
