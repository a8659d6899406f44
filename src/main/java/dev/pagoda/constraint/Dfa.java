package dev.pagoda.constraint;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The subset construction of an {@link Nfa}, done lazily: a state (a set of NFA states, epsilon-closed) and
 * its transition on a byte are computed the first time a mask or a token needs them, then kept. Not
 * thread-safe: one owner (the engine thread) steps it.
 */
final class Dfa {
    static final int DEAD = -1;
    private static final int UNKNOWN = -2;

    private final Nfa nfa;
    private final Map<Key, Integer> ids = new HashMap<>();
    private int[][] sets = new int[16][];
    private boolean[] accepting = new boolean[16];
    private int[] next = new int[16 * 256];
    private int count;
    private final int start;
    /** Closure scratch: mark[s] == stamp when s is already collected. */
    private final int[] mark;
    private final int[] stack;
    private final int[] collected;
    private int stamp;

    Dfa(Nfa nfa) {
        this.nfa = nfa;
        this.mark = new int[nfa.size()];
        this.stack = new int[nfa.size()];
        this.collected = new int[nfa.size()];
        stamp++;
        mark[nfa.start] = stamp;
        stack[0] = nfa.start;
        this.start = intern(closure(1));
    }

    int start() {
        return start;
    }

    int size() {
        return count;
    }

    boolean accepting(int state) {
        return accepting[state];
    }

    /** The state after byte b (0..255), or {@link #DEAD}. */
    int step(int state, int b) {
        int t = next[state * 256 + b];
        if (t != UNKNOWN) {
            return t;
        }
        stamp++;
        int pending = 0;
        for (int s : sets[state]) {
            int[] e = nfa.edges[s];
            for (int i = 0; i < e.length; i += 3) {
                if (b >= e[i] && b <= e[i + 1] && mark[e[i + 2]] != stamp) {
                    mark[e[i + 2]] = stamp;
                    stack[pending++] = e[i + 2];
                }
            }
        }
        t = pending == 0 ? DEAD : intern(closure(pending));
        next[state * 256 + b] = t;
        return t;
    }

    /** Epsilon closure of stack[0, pending) (already marked with the current stamp), sorted. */
    private int[] closure(int pending) {
        int n = 0;
        while (pending > 0) {
            int s = stack[--pending];
            collected[n++] = s;
            for (int t : nfa.eps[s]) {
                if (mark[t] != stamp) {
                    mark[t] = stamp;
                    stack[pending++] = t;
                }
            }
        }
        int[] set = Arrays.copyOf(collected, n);
        Arrays.sort(set);
        return set;
    }

    private int intern(int[] set) {
        Key k = new Key(set);
        Integer id = ids.get(k);
        if (id != null) {
            return id;
        }
        if (count == sets.length) {
            sets = Arrays.copyOf(sets, count * 2);
            accepting = Arrays.copyOf(accepting, count * 2);
            next = Arrays.copyOf(next, count * 2 * 256);
        }
        sets[count] = set;
        accepting[count] = Arrays.binarySearch(set, nfa.accept) >= 0;
        Arrays.fill(next, count * 256, (count + 1) * 256, UNKNOWN);
        ids.put(k, count);
        return count++;
    }

    private record Key(int[] set) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(set, k.set);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(set);
        }
    }
}
