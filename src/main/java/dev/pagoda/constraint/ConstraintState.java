package dev.pagoda.constraint;

/**
 * Where one sequence is inside its constraint: masks its next token's logits and follows the tokens it
 * appends. A parallel sample gets its own copy ({@link #fork}); preemption keeps it (recomputed KV does
 * not re-append tokens). Engine thread only.
 */
public final class ConstraintState {
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
     * remains allowed; none means the vocabulary cannot continue the text.
     */
    public boolean mask(float[] logits, int off, int vocab) {
        long[] m = ended ? null : matcher.mask(state);
        boolean any = false;
        for (int w = 0, base = 0; base < vocab; w++, base += 64) {
            long bits = m == null ? 0 : m[w];
            any |= bits != 0;
            if (bits == -1L) {
                continue;
            }
            int end = Math.min(64, vocab - base);
            for (int i = 0; i < end; i++) {
                if ((bits & (1L << i)) == 0) {
                    logits[off + base + i] = Float.NEGATIVE_INFINITY;
                }
            }
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

    /** Whether the text so far is a complete value of the constraint. */
    public boolean complete() {
        return matcher.accepting(state);
    }
}
