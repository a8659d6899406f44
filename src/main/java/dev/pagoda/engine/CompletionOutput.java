package dev.pagoda.engine;

import dev.pagoda.sampling.TokenLogprobs;
import java.util.List;

/**
 * One completion of a request (a request with n > 1 has several).
 *
 * @param index             its position among the request's returned completions
 * @param logprobs          one entry per generated token, or null when not requested
 * @param cumulativeLogprob sum of the generated tokens' logprobs (ranks best_of candidates and beams)
 */
public record CompletionOutput(int index, int[] tokenIds, String text, FinishReason finishReason,
                               List<TokenLogprobs> logprobs, double cumulativeLogprob) {
}
