package dev.pagoda.sampling;

import java.util.SplittableRandom;

/**
 * Picks the next token of one request from its logits. Greedy is argmax (lowest id on ties); otherwise
 * logits are divided by the temperature, cut to the top-k, turned into probabilities, cut to the
 * nucleus of mass top-p, and drawn from the request's own generator, so a seeded request does not
 * depend on what else runs. Buffers are sized once per vocabulary: nothing is allocated per token.
 */
public final class Sampler {
    private final int vocab;
    private final float[] probs;
    private final int[] order;
    private final SplittableRandom random;
    private final SamplingParams params;

    public Sampler(int vocab, SamplingParams params) {
        this.vocab = vocab;
        this.params = params;
        this.probs = new float[vocab];
        this.order = new int[vocab];
        this.random = new SplittableRandom(params.seed() != null ? params.seed() : System.nanoTime() ^ Thread.currentThread().threadId());
    }

    public int sample(float[] logits, int off) {
        if (params.isGreedy()) {
            return argmax(logits, off, vocab);
        }
        float invT = 1f / params.temperature();
        int n = vocab;
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        if (params.topK() > 0 && params.topK() < vocab) {
            n = params.topK();
            TopK.select(logits, off, order, vocab, n);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[off + order[i]]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float p = (float) Math.exp((logits[off + order[i]] - max) * invT);
            probs[i] = p;
            sum += p;
        }
        if (params.topP() < 1f) {
            TopK.sortDescending(probs, order, n);
            double cut = params.topP() * sum, cum = 0;
            int keep = 0;
            while (keep < n) {
                cum += probs[keep++];
                if (cum >= cut) {
                    break;
                }
            }
            sum = cum;
            n = keep;
        }
        double r = random.nextDouble() * sum, cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[i];
            if (r < cum) {
                return order[i];
            }
        }
        return order[n - 1];
    }

    public static int argmax(float[] x, int off, int n) {
        int best = 0;
        float bv = x[off];
        for (int i = 1; i < n; i++) {
            if (x[off + i] > bv) {
                bv = x[off + i];
                best = i;
            }
        }
        return best;
    }
}
