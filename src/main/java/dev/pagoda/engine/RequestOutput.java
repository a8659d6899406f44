package dev.pagoda.engine;

import dev.pagoda.sampling.TokenLogprobs;
import java.util.List;

/**
 * One increment of one completion ({@code index}) of a request, as streamed to its consumer: the tokens
 * generated in one step and the text they complete. The last increment carries the finish reason (or the error that ended it).
 *
 * @param logprobs   one entry per new token, or null when not requested
 * @param stopReason on the last increment of a completion ended by a stop string or stop token id, which; else null
 */
public record RequestOutput(String requestId, int index, int[] newTokenIds, String textDelta, List<TokenLogprobs> logprobs,
                            FinishReason finishReason, String error, StopReason stopReason) {
    /** An increment without a stop reason. */
    public RequestOutput(String requestId, int index, int[] newTokenIds, String textDelta, List<TokenLogprobs> logprobs,
                         FinishReason finishReason, String error) {
        this(requestId, index, newTokenIds, textDelta, logprobs, finishReason, error, null);
    }

    /** Whether this completion is done (or the request failed). */
    public boolean finished() {
        return finishReason != null || error != null;
    }
}
