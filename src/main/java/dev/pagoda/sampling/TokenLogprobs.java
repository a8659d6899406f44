package dev.pagoda.sampling;

/**
 * The log-probability of a chosen token and of the top alternatives, from the model's raw logits
 * (before temperature and truncation, as vLLM reports them).
 */
public record TokenLogprobs(int token, float logprob, int[] topIds, float[] topLogprobs) {

    public static TokenLogprobs of(float[] logits, int off, int vocab, int token, int top, int[] scratchIds) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        float logZ = (float) (max + Math.log(sum));
        for (int i = 0; i < vocab; i++) {
            scratchIds[i] = i;
        }
        TopK.select(logits, off, scratchIds, vocab, top);
        int[] ids = new int[top];
        float[] lps = new float[top];
        for (int i = 0; i < top; i++) {
            ids[i] = scratchIds[i];
            lps[i] = logits[off + ids[i]] - logZ;
        }
        return new TokenLogprobs(token, logits[off + token] - logZ, ids, lps);
    }
}
