package dev.pagoda.sampling;

import dev.pagoda.InvalidParameterException;
import dev.pagoda.constraint.Constraint;
import java.util.List;
import java.util.Map;

/**
 * How to generate, with OpenAI/vLLM names and semantics. Build with
 * {@link #builder()}; {@link Builder#build()} validates every field and names the offending parameter.
 *
 * @param n                      completions returned
 * @param bestOf                 candidates generated, the n best (by cumulative logprob) returned; >= n
 * @param temperature            0 is greedy, and so is any temperature below {@link #GREEDY_BELOW} (vLLM's rule):
 *                               dividing logits by a tinier one overflows and would sample garbage
 * @param topP                   nucleus mass in (0, 1]
 * @param topK                   keep the k most likely; -1 (or 0) is off
 * @param minP                   drop tokens whose probability is below minP times the top one, [0, 1]
 * @param presencePenalty        [-2, 2], subtracted once from every token already generated
 * @param frequencyPenalty       [-2, 2], subtracted per occurrence in the generated tokens
 * @param repetitionPenalty      (0, 2]; logits of tokens in the prompt or output are divided (if > 0) or multiplied by it
 * @param seed                   the request's own generator; null draws a random seed
 * @param stop                   strings that end generation (not included unless includeStopStrInOutput)
 * @param stopTokenIds           extra token ids that end generation
 * @param includeStopStrInOutput keep the matched stop string in the text
 * @param ignoreEos              keep generating past EOS (fixed-length benchmarks)
 * @param maxTokens              generated tokens at most
 * @param minTokens              stop tokens and EOS are banned before this many tokens
 * @param logprobs               top alternatives reported per generated token; null = none, 0 = only the chosen one
 * @param promptLogprobs         the same for every prompt token; null = none
 * @param logitBias              token id -> bias added to its logit, [-100, 100]
 * @param skipSpecialTokens      leave special tokens out of the text
 * @param constraint             guided decoding: the output must match it (JSON Schema, regex, choice, grammar); null for none
 * @param outputKind             an increment per token on the request's stream, or only the final outputs
 */
public record SamplingParams(int n, int bestOf, float temperature, float topP, int topK, float minP,
                             float presencePenalty, float frequencyPenalty, float repetitionPenalty, Long seed,
                             List<String> stop, int[] stopTokenIds, boolean includeStopStrInOutput, boolean ignoreEos,
                             int maxTokens, int minTokens, Integer logprobs, Integer promptLogprobs,
                             Map<Integer, Float> logitBias, boolean skipSpecialTokens, Constraint constraint,
                             OutputKind outputKind) {
    public static final int DEFAULT_MAX_TOKENS = 16;
    public static final int MAX_LOGPROBS = 20;
    /** Temperatures below this sample greedily (vLLM's _SAMPLING_EPS). */
    public static final float GREEDY_BELOW = 1e-5f;

    public static Builder builder() {
        return new Builder();
    }

    public static SamplingParams greedy(int maxTokens) {
        return builder().temperature(0).maxTokens(maxTokens).build();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public SamplingParams withIgnoreEos(boolean ignore) {
        return toBuilder().ignoreEos(ignore).build();
    }

    public boolean isGreedy() {
        return temperature < GREEDY_BELOW;
    }

    public boolean wantsLogprobs() {
        return logprobs != null;
    }

    /** The same parameters with only the final outputs on the stream (see {@link OutputKind#FINAL_ONLY}). */
    public SamplingParams finalOnly() {
        return toBuilder().outputKind(OutputKind.FINAL_ONLY).build();
    }

    /** Fields as in vLLM's defaults: n 1, temperature 1, top_p 1, top_k off, max_tokens 16, skip special tokens. */
    public static final class Builder {
        private int n = 1;
        private Integer bestOf;
        private float temperature = 1f;
        private float topP = 1f;
        private int topK = -1;
        private float minP;
        private float presencePenalty;
        private float frequencyPenalty;
        private float repetitionPenalty = 1f;
        private Long seed;
        private List<String> stop = List.of();
        private int[] stopTokenIds = new int[0];
        private boolean includeStopStrInOutput;
        private boolean ignoreEos;
        private int maxTokens = DEFAULT_MAX_TOKENS;
        private int minTokens;
        private Integer logprobs;
        private Integer promptLogprobs;
        private Map<Integer, Float> logitBias = Map.of();
        private boolean skipSpecialTokens = true;
        private Constraint constraint;
        private OutputKind outputKind = OutputKind.DELTA;

        Builder() {
        }

        Builder(SamplingParams p) {
            n = p.n;
            bestOf = p.bestOf;
            temperature = p.temperature;
            topP = p.topP;
            topK = p.topK;
            minP = p.minP;
            presencePenalty = p.presencePenalty;
            frequencyPenalty = p.frequencyPenalty;
            repetitionPenalty = p.repetitionPenalty;
            seed = p.seed;
            stop = p.stop;
            stopTokenIds = p.stopTokenIds;
            includeStopStrInOutput = p.includeStopStrInOutput;
            ignoreEos = p.ignoreEos;
            maxTokens = p.maxTokens;
            minTokens = p.minTokens;
            logprobs = p.logprobs;
            promptLogprobs = p.promptLogprobs;
            logitBias = p.logitBias;
            skipSpecialTokens = p.skipSpecialTokens;
            constraint = p.constraint;
            outputKind = p.outputKind;
        }

        public Builder n(int v) { n = v; return this; }
        public Builder bestOf(Integer v) { bestOf = v; return this; }
        public Builder temperature(float v) { temperature = v; return this; }
        public Builder topP(float v) { topP = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder minP(float v) { minP = v; return this; }
        public Builder presencePenalty(float v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(float v) { frequencyPenalty = v; return this; }
        public Builder repetitionPenalty(float v) { repetitionPenalty = v; return this; }
        public Builder seed(Long v) { seed = v; return this; }
        public Builder stop(List<String> v) { stop = v == null ? List.of() : List.copyOf(v); return this; }
        public Builder stopTokenIds(int... v) { stopTokenIds = v == null ? new int[0] : v.clone(); return this; }
        public Builder includeStopStrInOutput(boolean v) { includeStopStrInOutput = v; return this; }
        public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }
        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder minTokens(int v) { minTokens = v; return this; }
        public Builder logprobs(Integer v) { logprobs = v; return this; }
        public Builder promptLogprobs(Integer v) { promptLogprobs = v; return this; }
        public Builder logitBias(Map<Integer, Float> v) { logitBias = v == null ? Map.of() : Map.copyOf(v); return this; }
        public Builder skipSpecialTokens(boolean v) { skipSpecialTokens = v; return this; }
        public Builder constraint(Constraint v) { constraint = v; return this; }
        public Builder outputKind(OutputKind v) { outputKind = v == null ? OutputKind.DELTA : v; return this; }

        public SamplingParams build() {
            int best = bestOf == null ? n : bestOf;
            check(n >= 1, "n", "n must be at least 1, got " + n);
            check(best >= n, "best_of", "best_of must be at least n (" + n + "), got " + best);
            check(best <= 64, "best_of", "best_of (or n) must be at most 64, got " + best);
            check(temperature >= 0 && temperature <= 100, "temperature", "temperature must be in [0, 100], got " + temperature);
            // Greedy candidates are all the same: choosing the best of them is a mistake, refused as vLLM does.
            check(best == n || temperature >= GREEDY_BELOW, "best_of",
                    "best_of must equal n with greedy sampling (temperature below " + GREEDY_BELOW + "), got " + best);
            check(topP > 0 && topP <= 1, "top_p", "top_p must be in (0, 1], got " + topP);
            check(topK >= -1, "top_k", "top_k must be -1 (off) or positive, got " + topK);
            check(minP >= 0 && minP <= 1, "min_p", "min_p must be in [0, 1], got " + minP);
            check(presencePenalty >= -2 && presencePenalty <= 2, "presence_penalty", "presence_penalty must be in [-2, 2], got " + presencePenalty);
            check(frequencyPenalty >= -2 && frequencyPenalty <= 2, "frequency_penalty", "frequency_penalty must be in [-2, 2], got " + frequencyPenalty);
            check(repetitionPenalty > 0 && repetitionPenalty <= 2, "repetition_penalty", "repetition_penalty must be in (0, 2], got " + repetitionPenalty);
            check(maxTokens >= 1, "max_tokens", "max_tokens must be at least 1, got " + maxTokens);
            check(minTokens >= 0 && minTokens <= maxTokens, "min_tokens", "min_tokens must be in [0, max_tokens=" + maxTokens + "], got " + minTokens);
            check(logprobs == null || (logprobs >= 0 && logprobs <= MAX_LOGPROBS), "logprobs", "logprobs must be in [0, " + MAX_LOGPROBS + "], got " + logprobs);
            check(promptLogprobs == null || (promptLogprobs >= 0 && promptLogprobs <= MAX_LOGPROBS), "prompt_logprobs",
                    "prompt_logprobs must be in [0, " + MAX_LOGPROBS + "], got " + promptLogprobs);
            for (String s : stop) {
                check(s != null && !s.isEmpty(), "stop", "stop strings must not be empty");
            }
            for (Map.Entry<Integer, Float> e : logitBias.entrySet()) {
                check(e.getValue() >= -100 && e.getValue() <= 100, "logit_bias", "logit_bias values must be in [-100, 100], got " + e.getValue() + " for token " + e.getKey());
            }
            return new SamplingParams(n, best, temperature, topP, topK == 0 ? -1 : topK, minP, presencePenalty, frequencyPenalty,
                    repetitionPenalty, seed, stop, stopTokenIds, includeStopStrInOutput, ignoreEos, maxTokens, minTokens, logprobs,
                    promptLogprobs, logitBias, skipSpecialTokens, constraint, outputKind);
        }

        private static void check(boolean ok, String param, String message) {
            if (!ok) {
                throw new InvalidParameterException(param, message);
            }
        }
    }
}
