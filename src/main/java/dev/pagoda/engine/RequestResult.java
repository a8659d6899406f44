package dev.pagoda.engine;

import dev.pagoda.sampling.TokenLogprobs;
import java.util.List;

/**
 * A finished request: its prompt, its completions (index order), and timings.
 *
 * @param promptLogprobs one entry per prompt token after the first, or null when not requested
 */
public record RequestResult(String requestId, int[] promptTokenIds, List<CompletionOutput> outputs,
                            List<TokenLogprobs> promptLogprobs, RequestMetrics metrics) {

    /** The first completion: the whole output of an n = 1 request. */
    public CompletionOutput output() {
        return outputs.get(0);
    }
}
