package dev.pagoda.engine;

/**
 * What ended a completion with {@link FinishReason#STOP}, as vLLM's {@code stop_reason} reports it: the stop
 * string that matched, or the {@code stop_token_ids} entry that was generated. The model's own end-of-sequence
 * token and a completed constraint have none (null where a StopReason is expected).
 *
 * @param string  the stop string, or null for a token
 * @param tokenId the stop token's id, or -1 for a string
 */
public record StopReason(String string, int tokenId) {
    public static StopReason string(String stop) {
        return new StopReason(stop, -1);
    }

    public static StopReason token(int id) {
        return new StopReason(null, id);
    }
}
