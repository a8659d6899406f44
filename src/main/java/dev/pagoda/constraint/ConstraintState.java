package dev.pagoda.constraint;

import java.util.Arrays;

/**
 * Where one sequence is inside its constraint: masks its next token's logits and follows the tokens it
 * appends. A parallel sample gets its own copy ({@link #fork}); preemption keeps it (recomputed KV does
 * not re-append tokens). Engine thread only.
 */
public final class ConstraintState {
    /** Forbidden tokens in a word up to which they are visited one by one rather than by scanning all 64. */
    private static final int SPARSE = 12;
    private final TokenMatcher matcher;
    private int state;
    private boolean ended;

    ConstraintState(TokenMatcher matcher, int state) {
        this.matcher = matcher;
        this.state = state;
    }

    public ConstraintState fork() {
        ConstraintState s = new ConstraintState(matcher, state);
        s.ended = ended;
        return s;
    }

    /**
     * Sets logits[off + t] to -infinity for every token t the constraint forbids next (before any other
     * logits transform, so logprobs and sampling see the masked distribution). Returns whether any token
     * remains allowed; none means the vocabulary cannot continue the text. Runs of forbidden words are filled
     * at once, and a partly allowed word with few forbidden tokens costs one store per forbidden token: no
     * allocation, and fully allowed words are skipped.
     */
    public boolean mask(float[] logits, int off, int vocab) {
        if (ended) {
            Arrays.fill(logits, off, off + vocab, Float.NEGATIVE_INFINITY);
            return false;
        }
        long[] m = matcher.mask(state);
        int words = (vocab + 63) >>> 6;
        boolean any = false;
        for (int w = 0; w < words; ) {
            if (m[w] == 0) {
                int run = w + 1;
                while (run < words && m[run] == 0) {
                    run++;
                }
                Arrays.fill(logits, off + (w << 6), off + Math.min(vocab, run << 6), Float.NEGATIVE_INFINITY);
                w = run;
                continue;
            }
            any = true;
            int base = w << 6;
            long forbidden = ~m[w];
            if (vocab - base < 64) {
                forbidden &= (1L << (vocab - base)) - 1;
            }
            if (Long.bitCount(forbidden) <= SPARSE) {
                while (forbidden != 0) {
                    logits[off + base + Long.numberOfTrailingZeros(forbidden)] = Float.NEGATIVE_INFINITY;
                    forbidden &= forbidden - 1;
                }
            } else {
                for (int i = 0, end = Math.min(64, vocab - base); i < end; i++) {
                    if ((forbidden & (1L << i)) != 0) {
                        logits[off + base + i] = Float.NEGATIVE_INFINITY;
                    }
                }
            }
            w++;
        }
        return any;
    }

    /** Follows an appended token (a stop token ends the constrained text). */
    public void accept(int token) {
        if (ended) {
            return;
        }
        if (matcher.isStop(token) && matcher.accepting(state)) {
            ended = true;
            return;
        }
        int next = matcher.advance(state, token);
        // Only a token the mask allowed is appended; should the model give every allowed token -infinity
        // (argmax then returns a forbidden one), the text ends here rather than continue outside the language.
        if (next < 0) {
            ended = true;
            return;
        }
        state = next;
    }

    /** The automaton state (tests compare the applied mask with the state's). */
    int state() {
        return state;
    }

    /** Whether the text so far is a complete value of the constraint. */
    public boolean complete() {
        return matcher.accepting(state);
    }
}
