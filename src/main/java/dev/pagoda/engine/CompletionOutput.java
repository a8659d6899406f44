package dev.pagoda.engine;

import dev.pagoda.sampling.TokenLogprobs;
import java.util.List;

/**
 * One completion of a request (a request with n > 1 has several).
 *
 * @param index             its position among the request's returned completions
 * @param logprobs          one entry per generated token, or null when not requested
 * @param cumulativeLogprob sum of the generated tokens' logprobs (ranks best_of candidates and beams)
 * @param stopReason        the stop string or stop token id that ended it, or null (see {@link StopReason})
 */
public record CompletionOutput(int index, int[] tokenIds, String text, FinishReason finishReason,
                               List<TokenLogprobs> logprobs, double cumulativeLogprob, StopReason stopReason) {
    /** A completion without a stop reason. */
    public CompletionOutput(int index, int[] tokenIds, String text, FinishReason finishReason, List<TokenLogprobs> logprobs,
                            double cumulativeLogprob) {
        this(index, tokenIds, text, finishReason, logprobs, cumulativeLogprob, null);
    }
}
