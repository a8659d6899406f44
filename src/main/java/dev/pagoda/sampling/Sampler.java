package dev.pagoda.sampling;

import dev.pagoda.InvalidParameterException;
import dev.pagoda.kernel.Ops;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Picks the next token of one sample of one request from the model's raw logits, applying every
 * logits-side field of {@link SamplingParams} in vLLM's order: logit_bias, min_tokens (stop tokens
 * banned), repetition, frequency and presence penalties, then temperature (0 = greedy argmax, lowest id
 * on ties), top_k, top_p, min_p, and a draw from the sample's own generator, so a seeded request gives
 * the same tokens whatever else runs.
 *
 * <p>The caller's logits are never written: they are copied into this sampler's scratch, sized once per
 * vocabulary. Per token nothing is allocated. Not thread-safe; one per sample.
 */
public final class Sampler {
    private final int vocab;
    private final SamplingParams params;
    private final int[] biasIds;
    private final float[] biasValues;
    /** EOS and stop token ids inside the vocabulary, banned while fewer than min_tokens were generated. */
    private final int[] stopIds;
    private final Penalties penalties;
    private final SplittableRandom random;
    private final float[] work;
    private final float[] probs;
    private final int[] order;
    /** top_p without top_k: the ids that survive the pruning, selected from again as k grows. */
    private final int[] candidates;
    /** Sum of probs[0, n) after {@link #truncate}, added in index order as the draw scans them. */
    private double mass;
    private int generated;

    /**
     * @param vocab        logits per token position
     * @param params       the request's parameters
     * @param prompt       the prompt's token ids (repetition_penalty counts them as seen)
     * @param stopTokenIds the model's EOS/stop ids; the request's stop_token_ids are added to them
     * @param sampleIndex  which of the request's n (or best_of) samples this is, from 0; sample i of a
     *                     seeded request always uses {@link #generator(long, int) generator(seed, i)}
     */
    public Sampler(int vocab, SamplingParams params, int[] prompt, int[] stopTokenIds, int sampleIndex) {
        this.vocab = vocab;
        this.params = params;
        this.biasIds = new int[params.logitBias().size()];
        this.biasValues = new float[biasIds.length];
        int b = 0;
        for (Map.Entry<Integer, Float> e : params.logitBias().entrySet()) {
            if (e.getKey() < 0 || e.getKey() >= vocab) {
                throw new InvalidParameterException("logit_bias", "logit_bias token id " + e.getKey()
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
            biasIds[b] = e.getKey();
            biasValues[b++] = e.getValue();
        }
        this.stopIds = IntStream.concat(Arrays.stream(stopTokenIds), Arrays.stream(params.stopTokenIds()))
                .filter(t -> t >= 0 && t < vocab).distinct().toArray();
        this.penalties = Penalties.of(params, prompt, vocab);
        this.random = params.seed() != null ? generator(params.seed(), sampleIndex) : new SplittableRandom();
        this.work = new float[vocab];
        this.probs = params.isGreedy() ? null : new float[vocab];
        this.order = params.isGreedy() ? null : new int[vocab];
        this.candidates = params.isGreedy() || params.topP() >= 1f ? null : new int[vocab];
    }

    /**
     * The generator of sample {@code sampleIndex} of a request seeded with {@code seed}: sample 0 is
     * {@code new SplittableRandom(seed)} itself, sample i > 0 its i-th {@link SplittableRandom#split()},
     * so samples differ from each other yet each is reproducible from (seed, i) alone.
     */
    public static SplittableRandom generator(long seed, int sampleIndex) {
        SplittableRandom root = new SplittableRandom(seed), sample = root;
        for (int i = 0; i < sampleIndex; i++) {
            sample = root.split();
        }
        return sample;
    }

    /**
     * Chooses a token from logits[off, off + vocab), which are left untouched. Call {@link #accept} with
     * the token the sequence actually appends before sampling the next one.
     */
    public int sample(float[] logits, int off) {
        if (params.isGreedy() && leavesLogitsAlone()) {
            return Ops.argmax(logits, off, vocab);  // nothing to apply: no copy of the row
        }
        process(logits, off);
        if (params.isGreedy()) {
            return Ops.argmax(work, 0, vocab);
        }
        int n = truncate();
        // mass was added in this order, so r < mass stops the scan on a token of positive probability.
        double r = random.nextDouble() * mass, cum = 0;
        for (int i = 0; i < n - 1; i++) {
            cum += probs[i];
            if (r < cum) {
                return order[i];
            }
        }
        return order[n - 1];
    }

    /** Records a generated token: it counts toward min_tokens and the penalties from now on. */
    public void accept(int token) {
        generated++;
        if (penalties != null) {
            penalties.accept(token);
        }
    }

    /** Tokens accepted so far. */
    public int generated() {
        return generated;
    }

    /**
     * The distribution {@link #sample} draws from for these logits (0 outside the kept set), as a fresh
     * array; for tests and diagnostics, not the token loop. Greedy puts all mass on the argmax.
     */
    float[] distribution(float[] logits, int off) {
        float[] p = new float[vocab];
        process(logits, off);
        if (params.isGreedy()) {
            p[Ops.argmax(work, 0, vocab)] = 1f;
            return p;
        }
        int n = truncate();
        for (int i = 0; i < n; i++) {
            p[order[i]] = (float) (probs[i] / mass);
        }
        return p;
    }

    /** Whether {@link #process} would copy the logits unchanged: no bias, no banned stop tokens, no penalties. */
    private boolean leavesLogitsAlone() {
        return biasIds.length == 0 && (generated >= params.minTokens() || stopIds.length == 0) && penalties == null;
    }

    /** work = logits with bias, min_tokens and penalties applied. */
    private void process(float[] logits, int off) {
        System.arraycopy(logits, off, work, 0, vocab);
        for (int i = 0; i < biasIds.length; i++) {
            work[biasIds[i]] += biasValues[i];
        }
        if (generated < params.minTokens()) {
            for (int t : stopIds) {
                work[t] = Float.NEGATIVE_INFINITY;
            }
        }
        if (penalties != null) {
            penalties.apply(work);
        }
    }

    /**
     * Temperature, top_k, top_p and min_p over work: leaves the kept token ids in order[0, n) and their
     * unnormalized probabilities (the most likely token has exactly 1) in probs[0, n); returns n.
     */
    private int truncate() {
        for (int i = 0; i < vocab; i++) {
            order[i] = i;
        }
        int n = vocab;
        boolean sorted = false;
        if (params.topK() > 0 && params.topK() < vocab) {
            n = params.topK();
            TopK.select(work, 0, order, vocab, n);
            sorted = true;
        }
        float max = sorted ? work[order[0]] : work[Ops.argmax(work, 0, vocab)];
        float invT = 1f / params.temperature();
        double sum = 0;
        for (int i = 0; i < n; i++) {
            probs[i] = (float) Math.exp((work[order[i]] - max) * invT);
            sum += probs[i];
        }
        if (params.topP() < 1f) {
            double cut = params.topP() * sum;
            if (!sorted) {
                // Tokens below (1 - top_p) * sum / n together hold less than 1 - top_p of the mass, so
                // the nucleus drops each of them anyway; the head of what remains is then selected, not sorted.
                n = nucleus(keepAtLeast((float) ((1 - params.topP()) * sum / n), n), cut, max, invT);
            } else {
                n = prefixBelow(cut, n);
            }
        }
        if (params.minP() > 0f) {
            // The most likely token has probability 1 here, so min_p * max is min_p itself.
            n = keepAtLeast(params.minP(), n);
        }
        mass = 0;
        for (int i = 0; i < n; i++) {
            mass += probs[i];
        }
        return n;
    }

    /**
     * The nucleus among the n candidate ids in order[0, n): the k most likely (a bounded heap over the logits, ties to
     * the lower id), for k = 64, 128, ... until their prefix reaches {@code cut}. O(n log k), never a sort of the
     * vocabulary. Leaves the kept ids in descending order with their probabilities; returns their count.
     */
    private int nucleus(int n, double cut, float max, float invT) {
        System.arraycopy(order, 0, candidates, 0, n);
        for (int k = Math.min(n, 64); ; k = Math.min(n, 2 * k)) {
            System.arraycopy(candidates, 0, order, 0, n);
            TopK.select(work, 0, order, n, k);
            for (int i = 0; i < k; i++) {
                probs[i] = (float) Math.exp((work[order[i]] - max) * invT);
            }
            int keep = prefixBelow(cut, k);
            if (keep < k || k == n) {
                return keep;
            }
        }
    }

    /** Of probs[0, n) in descending order, how many to keep: a token while the mass strictly above it is below cut (the first always). */
    private int prefixBelow(double cut, int n) {
        double above = 0;
        int keep = 0;
        while (keep < n && above < cut) {
            above += probs[keep++];
        }
        return keep;
    }

    /** Compacts probs/order[0, n) to the entries with probability >= floor, in order; returns their count. */
    private int keepAtLeast(float floor, int n) {
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (probs[i] >= floor) {
                probs[kept] = probs[i];
                order[kept++] = order[i];
            }
        }
        return kept;
    }
}
