package dev.pagoda.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.pagoda.InvalidParameterException;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Each expectation is computed by hand (or by a plain softmax) from logits written here. */
class SamplerTest {
    private static final float LN_50 = (float) Math.log(0.50), LN_25 = (float) Math.log(0.25),
            LN_15 = (float) Math.log(0.15), LN_10 = (float) Math.log(0.10);
    /** Probabilities 0.15, 0.50, 0.10, 0.25 at temperature 1. */
    private static final float[] QUARTET = {LN_15, LN_50, LN_10, LN_25};
    private static final int[] NONE = {};

    private static SamplingParams.Builder params() {
        return SamplingParams.builder().seed(7L).maxTokens(64);
    }

    private static Sampler sampler(SamplingParams p, int vocab) {
        return new Sampler(vocab, p, NONE, NONE, 0);
    }

    /** softmax(logits / t) restricted to the ids in keep, renormalized; 0 elsewhere. */
    private static double[] softmax(double[] logits, double t, int... keep) {
        double[] p = new double[logits.length];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i : keep) {
            max = Math.max(max, logits[i]);
        }
        for (int i : keep) {
            p[i] = Math.exp((logits[i] - max) / t);
            sum += p[i];
        }
        for (int i : keep) {
            p[i] /= sum;
        }
        return p;
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    private static void assertDistribution(float[] actual, double[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) actual[i]).as("probability of token %d", i).isCloseTo(expected[i], within(1e-6));
        }
    }

    @Test
    void temperatureScalesTheSoftmax() {
        float[] logits = {0f, 1f, 2f, 0.5f};
        Sampler s = sampler(params().temperature(0.7f).build(), 4);
        assertDistribution(s.distribution(logits, 0), softmax(toDouble(logits), 0.7, 0, 1, 2, 3));
    }

    @Test
    void drawsFollowTheSoftmaxEmpirically() {
        // 200k seeded draws: the standard error of each frequency is below 0.0012, the tolerance is 0.006.
        float[] logits = {0f, 1f, 2f, 0.5f};
        Sampler s = sampler(params().temperature(0.7f).build(), 4);
        double[] expected = softmax(toDouble(logits), 0.7, 0, 1, 2, 3);
        int draws = 200_000;
        int[] hits = new int[4];
        for (int i = 0; i < draws; i++) {
            hits[s.sample(logits, 0)]++;
        }
        for (int t = 0; t < 4; t++) {
            assertThat(hits[t] / (double) draws).as("frequency of token %d", t).isCloseTo(expected[t], within(0.006));
        }
    }

    @Test
    void topKKeepsTheKLargestLogits() {
        float[] logits = {1f, 3f, 2f, 0.5f, 2.5f};
        Sampler s = sampler(params().topK(3).build(), 5);
        assertDistribution(s.distribution(logits, 0), softmax(toDouble(logits), 1, 1, 4, 2));
    }

    @Test
    void topPKeepsTheSmallestNucleusReachingP() {
        // Sorted: 0.50 (id 1), 0.25 (id 3), 0.15 (id 0), 0.10 (id 2). Mass above id 0 is 0.75.
        assertDistribution(sampler(params().topP(0.7f).build(), 4).distribution(QUARTET, 0),
                new double[] {0, 0.5 / 0.75, 0, 0.25 / 0.75});
        assertDistribution(sampler(params().topP(0.8f).build(), 4).distribution(QUARTET, 0),
                new double[] {0.15 / 0.9, 0.5 / 0.9, 0, 0.25 / 0.9});
        assertDistribution(sampler(params().topP(0.3f).build(), 4).distribution(QUARTET, 0), new double[] {0, 1, 0, 0});
    }

    @Test
    void topPOverAFlatVocabularyKeepsTheLowestIdsOfTies() {
        // 1000 equal logits: the nucleus of 0.5 is 500 tokens, more than the first selection of 64 holds;
        // ties go to the lower id, as a sort by (logit, id) would order them.
        float[] logits = new float[1000];
        double[] expected = new double[1000];
        Arrays.fill(expected, 0, 500, 1 / 500.0);
        assertDistribution(sampler(params().topP(0.5f).build(), 1000).distribution(logits, 0), expected);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheTopOne() {
        // Relative to the top 0.50: 0.3, 1, 0.2, 0.5.
        assertDistribution(sampler(params().minP(0.4f).build(), 4).distribution(QUARTET, 0),
                new double[] {0, 0.5 / 0.75, 0, 0.25 / 0.75});
        // At temperature 2 the ratios are square roots: 0.548, 1, 0.447, 0.707.
        double[] t2 = softmax(toDouble(QUARTET), 2, 0, 1, 3);
        assertDistribution(sampler(params().temperature(2f).minP(0.5f).build(), 4).distribution(QUARTET, 0), t2);
    }

    @Test
    void topKThenTopPThenMinP() {
        float[] logits = {LN_15, LN_50, LN_10, LN_25, (float) Math.log(0.0)};
        // top_k 3 leaves 0.5, 0.25, 0.15 (mass 0.9 -> 0.556, 0.278, 0.167); top_p 0.85 keeps all three
        // (mass above 0.15 is 0.833); min_p 0.32 then drops 0.15 (0.3 of the top one).
        Sampler s = sampler(params().topK(3).topP(0.85f).minP(0.32f).build(), 5);
        assertDistribution(s.distribution(logits, 0), new double[] {0, 0.5 / 0.75, 0, 0.25 / 0.75, 0});
    }

    @Test
    void truncationMatchesAPlainSortingReferenceOnRandomLogits() {
        SplittableRandom r = new SplittableRandom(11);
        for (int trial = 0; trial < 200; trial++) {
            int vocab = r.nextInt(1, 3000);
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) {
                logits[i] = (float) (r.nextGaussian() * 3);
            }
            float t = new float[] {0.3f, 1f, 1.7f}[r.nextInt(3)];
            int k = r.nextBoolean() ? -1 : r.nextInt(1, vocab + 5);
            float p = r.nextBoolean() ? 1f : (float) r.nextDouble(0.05, 1);
            float minP = r.nextBoolean() ? 0f : (float) r.nextDouble(0, 0.5);
            Sampler s = sampler(params().temperature(t).topK(k).topP(p).minP(minP).build(), vocab);
            float[] actual = s.distribution(logits, 0);
            double[] expected = reference(logits, t, k, p, minP);
            int worst = 0;
            for (int i = 1; i < vocab; i++) {
                if (Math.abs(actual[i] - expected[i]) > Math.abs(actual[worst] - expected[worst])) {
                    worst = i;
                }
            }
            assertThat((double) actual[worst]).as("trial %d token %d", trial, worst).isCloseTo(expected[worst], within(1e-5));
        }
    }

    /** Softmax, then top-k, top-p and min-p by sorting every token, as the definitions read. */
    private static double[] reference(float[] logits, double t, int k, double topP, double minP) {
        int vocab = logits.length;
        Integer[] byLogit = new Integer[vocab];
        for (int i = 0; i < vocab; i++) {
            byLogit[i] = i;
        }
        Arrays.sort(byLogit, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
        int n = k > 0 ? Math.min(k, vocab) : vocab;
        int[] kept = new int[n];
        for (int i = 0; i < n; i++) {
            kept[i] = byLogit[i];
        }
        double[] p = softmax(toDouble(logits), t, kept);
        double above = 0;
        int inNucleus = 0;
        while (inNucleus < n && above < topP) {
            above += p[kept[inNucleus++]];
        }
        double top = p[kept[0]];
        int m = 0;
        for (int i = 0; i < inNucleus; i++) {
            if (p[kept[i]] >= minP * top) {
                kept[m++] = kept[i];
            }
        }
        return softmax(toDouble(logits), t, Arrays.copyOf(kept, m));
    }

    @Test
    void logitBiasIsAddedToTheLogit() {
        float[] logits = {1f, 2f, 3f};
        Sampler s = sampler(params().logitBias(Map.of(0, 5f, 2, -100f)).build(), 3);
        assertDistribution(s.distribution(logits, 0), softmax(new double[] {6, 2, -97}, 1, 0, 1, 2));
        assertThat(sampler(params().temperature(0).logitBias(Map.of(0, 2.5f)).build(), 3).sample(logits, 0)).isZero();
    }

    @Test
    void logitBiasOutsideTheVocabularyIsAParameterError() {
        SamplingParams p = params().logitBias(Map.of(3, 1f)).build();
        assertThatThrownBy(() -> sampler(p, 3)).isInstanceOf(InvalidParameterException.class)
                .hasMessageContaining("logit_bias").hasMessageContaining("3");
    }

    @Test
    void minTokensBansEosAndStopTokenIdsUntilEnoughWereGenerated() {
        float[] logits = {1f, 0f, 2f, 5f, 4f}; // 3 is the model's EOS, 4 a request stop token id
        Sampler s = new Sampler(5, params().temperature(0).minTokens(2).stopTokenIds(4).build(), NONE, new int[] {3}, 0);
        assertThat(s.sample(logits, 0)).isEqualTo(2);
        s.accept(2);
        assertThat(s.sample(logits, 0)).isEqualTo(2);
        s.accept(2);
        assertThat(s.generated()).isEqualTo(2);
        assertThat(s.sample(logits, 0)).isEqualTo(3);

        Sampler random = new Sampler(5, params().minTokens(1).stopTokenIds(4).build(), NONE, new int[] {3}, 0);
        assertDistribution(random.distribution(logits, 0), softmax(toDouble(logits), 1, 0, 1, 2));
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfSeenTokens() {
        float[] logits = {2f, 2f, -2f, 1f, 1f, 0.5f};
        // Seen: 1 and 2 in the prompt (1 twice), 3 in the output; 0, 4, 5 unseen.
        Sampler s = new Sampler(6, params().repetitionPenalty(2f).build(), new int[] {1, 1, 2}, NONE, 0);
        s.accept(3);
        assertDistribution(s.distribution(logits, 0), softmax(new double[] {2, 1, -4, 0.5, 1, 0.5}, 1, 0, 1, 2, 3, 4, 5));
    }

    @Test
    void presenceAndFrequencyPenalizeOutputTokensOnly() {
        float[] logits = {1f, 1f, 1f, 1f, 1f};
        Sampler s = new Sampler(5, params().presencePenalty(0.5f).frequencyPenalty(0.25f).build(), new int[] {0, 1}, NONE, 0);
        s.accept(3);
        s.accept(3);
        s.accept(4);
        // 3: 1 - 0.5 - 2 * 0.25 = 0; 4: 1 - 0.5 - 0.25 = 0.25; prompt tokens 0 and 1 untouched.
        assertDistribution(s.distribution(logits, 0), softmax(new double[] {1, 1, 1, 0, 0.25}, 1, 0, 1, 2, 3, 4));
    }

    @Test
    void negativePenaltiesEncourageRepetition() {
        float[] logits = {1f, 1f, 1f};
        Sampler s = new Sampler(3, params().presencePenalty(-1f).frequencyPenalty(-0.5f).build(), NONE, NONE, 0);
        s.accept(2);
        assertDistribution(s.distribution(logits, 0), softmax(new double[] {1, 1, 2.5}, 1, 0, 1, 2));
    }

    @Test
    void penaltiesComposeInVllmOrder() {
        // bias, then repetition (on the biased logit), then frequency and presence.
        float[] logits = {3f, 1f, 0f};
        SamplingParams p = params().logitBias(Map.of(0, 1f)).repetitionPenalty(2f).presencePenalty(0.5f).frequencyPenalty(1f).build();
        Sampler s = new Sampler(3, p, new int[] {1}, NONE, 0);
        s.accept(0);
        // 0: (3 + 1) / 2 - 0.5 - 1 = 0.5; 1: 1 / 2 = 0.5 (prompt only); 2: 0.
        assertDistribution(s.distribution(logits, 0), softmax(new double[] {0.5, 0.5, 0}, 1, 0, 1, 2));
    }

    @Test
    void greedyIsTheArgmaxAfterPenaltiesWithTheLowestIdOnTies() {
        float[] logits = {3f, 2.5f, 2.5f, 0f};
        Sampler s = new Sampler(4, params().temperature(0).presencePenalty(1f).topK(1).build(), NONE, NONE, 0);
        assertThat(s.sample(logits, 0)).isZero();
        s.accept(0);
        assertThat(s.sample(logits, 0)).isEqualTo(1); // 0 fell to 2, 1 and 2 tie at 2.5
        s.accept(1);
        assertThat(s.sample(logits, 0)).isEqualTo(2);
    }

    @Test
    void callersLogitsAreLeftUntouchedAndTheOffsetIsHonoured() {
        float[] batch = {9f, 9f, 9f, 0f, 1f, 2f, 3f, 9f};
        float[] before = batch.clone();
        SamplingParams p = params().logitBias(Map.of(3, -50f)).repetitionPenalty(1.5f).presencePenalty(1f)
                .frequencyPenalty(0.5f).minTokens(3).topK(3).topP(0.9f).minP(0.05f).build();
        Sampler s = new Sampler(4, p, new int[] {1}, new int[] {0}, 0);
        for (int i = 0; i < 20; i++) {
            int t = s.sample(batch, 3);
            assertThat(t).isBetween(0, 3);
            s.accept(t);
        }
        assertThat(batch).containsExactly(before);
    }

    @Test
    void aSeedGivesTheSameTokensWhateverElseRuns() {
        float[] logits = {0f, 0.2f, 0.4f, 0.1f, 0.3f};
        SamplingParams seeded = params().seed(1234L).build();
        int[] alone = draw(sampler(seeded, 5), logits, 300);
        Sampler again = sampler(seeded, 5);
        Sampler other = sampler(SamplingParams.builder().build(), 5);
        int[] interleaved = new int[300];
        for (int i = 0; i < 300; i++) {
            other.sample(logits, 0);
            interleaved[i] = again.sample(logits, 0);
        }
        assertThat(interleaved).containsExactly(alone);
        assertThat(draw(sampler(params().seed(1235L).build(), 5), logits, 300)).isNotEqualTo(alone);
    }

    @Test
    void unseededRequestsDrawTheirOwnSeed() {
        float[] logits = {0f, 0f, 0f, 0f};
        SamplingParams unseeded = SamplingParams.builder().build();
        assertThat(draw(sampler(unseeded, 4), logits, 200)).isNotEqualTo(draw(sampler(unseeded, 4), logits, 200));
    }

    @Test
    void eachSampleOfASeededRequestHasItsOwnReproducibleGenerator() {
        assertThat(Sampler.generator(99, 0).nextLong()).isEqualTo(new SplittableRandom(99).nextLong());
        long[] first = new long[4];
        for (int i = 0; i < 4; i++) {
            first[i] = Sampler.generator(99, i).nextLong();
            assertThat(Sampler.generator(99, i).nextLong()).isEqualTo(first[i]);
        }
        assertThat(Arrays.stream(first).distinct().count()).isEqualTo(4);

        float[] logits = {0f, 0f, 0f, 0f, 0f, 0f};
        SamplingParams p = params().seed(99L).n(3).build();
        int[][] samples = new int[3][];
        for (int i = 0; i < 3; i++) {
            samples[i] = draw(new Sampler(6, p, NONE, NONE, i), logits, 100);
            assertThat(draw(new Sampler(6, p, NONE, NONE, i), logits, 100)).containsExactly(samples[i]);
        }
        assertThat(samples[0]).isNotEqualTo(samples[1]);
        assertThat(samples[1]).isNotEqualTo(samples[2]);
    }

    private static int[] draw(Sampler s, float[] logits, int count) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = s.sample(logits, 0);
        }
        return out;
    }
}
