package dev.pagoda.engine;

import dev.pagoda.sampling.TokenLogprobs;
import java.util.List;

/** The outcome of one prompt: its tokens, the generated tokens and text, and timings. */
public record GenerationResult(
        int[] promptTokenIds,
        int[] tokenIds,
        String text,
        FinishReason finishReason,
        List<TokenLogprobs> logprobs,
        long prefillNanos,
        long decodeNanos) {

    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokenIds.length * 1e9 / prefillNanos;
    }

    /** Decode rate over the tokens after the first (the first comes out of prefill). */
    public double decodeTokensPerSecond() {
        return decodeNanos == 0 || tokenIds.length < 2 ? 0 : (tokenIds.length - 1) * 1e9 / decodeNanos;
    }
}
