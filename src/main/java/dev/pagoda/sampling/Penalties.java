package dev.pagoda.sampling;

import java.util.Arrays;

/**
 * The repetition, presence and frequency penalties of one request (vLLM order: repetition first, then
 * frequency and presence). Repetition acts on tokens seen in the prompt or the output; presence and
 * frequency on output tokens only. State is kept incrementally, and only touched tokens are visited
 * per step: a prompt bitset and distinct-token list (only when repetition is on) and sparse output counts.
 */
final class Penalties {
    private final float repetition;
    private final float presence;
    private final float frequency;
    /** Prompt membership by token id, null unless repetition is on. */
    private final long[] promptBits;
    /** Distinct prompt tokens inside the vocabulary. */
    private final int[] promptTokens;
    private final TokenCounts output;

    private Penalties(SamplingParams p, int[] prompt, int vocab) {
        repetition = p.repetitionPenalty();
        presence = p.presencePenalty();
        frequency = p.frequencyPenalty();
        output = new TokenCounts(Math.min(p.maxTokens(), vocab));
        if (repetition != 1f) {
            promptBits = new long[(vocab + 63) >>> 6];
            int[] distinct = new int[prompt.length];
            int n = 0;
            for (int t : prompt) {
                if (t >= 0 && t < vocab && !inPrompt(promptBits, t)) {
                    promptBits[t >>> 6] |= 1L << t;
                    distinct[n++] = t;
                }
            }
            promptTokens = Arrays.copyOf(distinct, n);
        } else {
            promptBits = null;
            promptTokens = new int[0];
        }
    }

    /** The penalties of p, or null when all are off (the common case costs nothing). */
    static Penalties of(SamplingParams p, int[] prompt, int vocab) {
        boolean off = p.repetitionPenalty() == 1f && p.presencePenalty() == 0f && p.frequencyPenalty() == 0f;
        return off ? null : new Penalties(p, prompt, vocab);
    }

    void accept(int token) {
        output.increment(token);
    }

    void apply(float[] logits) {
        if (repetition != 1f) {
            for (int t : promptTokens) {
                logits[t] = repeated(logits[t]);
            }
            for (int i = 0; i < output.size(); i++) {
                int t = output.token(i);
                if (!inPrompt(promptBits, t)) {
                    logits[t] = repeated(logits[t]);
                }
            }
        }
        if (presence != 0f || frequency != 0f) {
            for (int i = 0; i < output.size(); i++) {
                logits[output.token(i)] -= presence + frequency * output.count(i);
            }
        }
    }

    /** Penalizing must lower the logit whatever its sign (CTRL paper, as vLLM applies it). */
    private float repeated(float logit) {
        return logit > 0 ? logit / repetition : logit * repetition;
    }

    private static boolean inPrompt(long[] bits, int t) {
        return (bits[t >>> 6] & (1L << t)) != 0;
    }
}
