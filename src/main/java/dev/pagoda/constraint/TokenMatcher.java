package dev.pagoda.constraint;

import java.util.Arrays;

/**
 * A {@link Constraint} over one vocabulary: per automaton state, the set of tokens whose bytes keep the text
 * inside the constraint's language (found by walking the {@link VocabularyTrie} with the automaton once,
 * then cached), plus the stop tokens where the text is already complete. Not thread-safe: the engine
 * thread owns it (the automaton and the masks grow as states are first reached).
 */
public final class TokenMatcher {
    /** Masks kept at most (beyond it a state's mask is recomputed each time): bounds memory at large vocabularies. */
    private static final long MASK_CACHE_BYTES = 256L << 20;

    private final Constraint constraint;
    private final VocabularyTrie trie;
    private final Dfa dfa;
    private final int[] stopTokens;
    private final int words;
    private final int maxCached;
    private long[][] masks = new long[16][];
    private int cached;
    /** Trie walk scratch: node and automaton state per pending entry. */
    private int[] pendingNode = new int[64];
    private int[] pendingState = new int[64];

    public TokenMatcher(Constraint constraint, VocabularyTrie trie, int[] stopTokens) {
        this.constraint = constraint;
        this.trie = trie;
        this.dfa = new Dfa(constraint.nfa());
        this.stopTokens = Arrays.stream(stopTokens).filter(t -> t >= 0 && t < trie.vocab()).distinct().toArray();
        this.words = (trie.vocab() + 63) >>> 6;
        this.maxCached = (int) Math.max(64, MASK_CACHE_BYTES / (8L * words));
    }

    public Constraint constraint() {
        return constraint;
    }

    /** A fresh per-sequence state at the start of the constrained text. */
    public ConstraintState start() {
        return new ConstraintState(this, dfa.start());
    }

    boolean accepting(int state) {
        return dfa.accepting(state);
    }

    boolean isStop(int token) {
        for (int t : stopTokens) {
            if (t == token) {
                return true;
            }
        }
        return false;
    }

    /** The state after the token's bytes, or {@link Dfa#DEAD} if it leaves the language or never matches. */
    int advance(int state, int token) {
        byte[] b = trie.bytes(token);
        if (b == null) {
            return Dfa.DEAD;
        }
        for (int i = 0; i < b.length && state >= 0; i++) {
            state = dfa.step(state, b[i] & 0xFF);
        }
        return state;
    }

    /** Bit t set when token t may come next in this state; shared array, callers must not modify it. */
    long[] mask(int state) {
        if (state < masks.length && masks[state] != null) {
            return masks[state];
        }
        long[] m = compute(state);
        if (cached < maxCached) {
            if (state >= masks.length) {
                masks = Arrays.copyOf(masks, Math.max(state + 1, masks.length * 2));
            }
            masks[state] = m;
            cached++;
        }
        return m;
    }

    /** Automaton states reached so far (for diagnostics and benchmarks). */
    public int states() {
        return dfa.size();
    }

    private long[] compute(int state) {
        long[] m = new long[words];
        if (dfa.accepting(state)) {
            for (int t : stopTokens) {
                m[t >>> 6] |= 1L << t;
            }
        }
        int[] label = trie.label, first = trie.firstChild, sibling = trie.nextSibling, token = trie.firstToken, nextToken = trie.nextToken;
        int n = 0;
        pendingNode[n] = 0;
        pendingState[n++] = state;
        while (n > 0) {
            int node = pendingNode[--n], s = pendingState[n];
            for (int c = first[node]; c >= 0; c = sibling[c]) {
                int t = dfa.step(s, label[c]);
                if (t == Dfa.DEAD) {
                    continue;
                }
                for (int id = token[c]; id >= 0; id = nextToken[id]) {
                    m[id >>> 6] |= 1L << id;
                }
                if (first[c] >= 0) {
                    if (n == pendingNode.length) {
                        pendingNode = Arrays.copyOf(pendingNode, n * 2);
                        pendingState = Arrays.copyOf(pendingState, n * 2);
                    }
                    pendingNode[n] = c;
                    pendingState[n++] = t;
                }
            }
        }
        return m;
    }
}
