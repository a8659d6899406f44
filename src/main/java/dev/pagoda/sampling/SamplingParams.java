package dev.pagoda.sampling;

import dev.pagoda.PagodaException;

/**
 * How to pick tokens, with OpenAI/vLLM semantics: temperature 0 is greedy; topK -1 is off; topP in (0, 1];
 * seed null draws a random one; logprobs is the number of top alternatives reported per token (0 = none);
 * ignoreEos keeps generating past stop tokens (benchmarks with fixed output lengths).
 */
public record SamplingParams(int maxTokens, float temperature, float topP, int topK, Long seed, int logprobs, boolean ignoreEos) {
    public static final int DEFAULT_MAX_TOKENS = 16;

    public SamplingParams {
        if (maxTokens < 1) {
            throw new PagodaException("max_tokens must be at least 1, got " + maxTokens);
        }
        if (!(temperature >= 0) || temperature > 100) {
            throw new PagodaException("temperature must be in [0, 100], got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new PagodaException("top_p must be in (0, 1], got " + topP);
        }
        if (topK == 0 || topK < -1) {
            throw new PagodaException("top_k must be -1 (off) or at least 1, got " + topK);
        }
        if (logprobs < 0 || logprobs > 20) {
            throw new PagodaException("logprobs must be in [0, 20], got " + logprobs);
        }
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(maxTokens, 0f, 1f, -1, null, 0, false);
    }

    public SamplingParams withIgnoreEos(boolean ignore) {
        return new SamplingParams(maxTokens, temperature, topP, topK, seed, logprobs, ignore);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }
}
