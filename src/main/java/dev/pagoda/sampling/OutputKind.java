package dev.pagoda.sampling;

/**
 * What a request's stream carries (vLLM's RequestOutputKind, without its cumulative form): an increment per
 * generated token, or only each completion's final output. A caller that reads only the result asks for the
 * final output, so the engine builds and queues nothing per token.
 */
public enum OutputKind {
    /** One increment per step with the new tokens and text; the last one carries the finish reason. */
    DELTA,
    /** One increment per completion, when it ends, with all its tokens and text. */
    FINAL_ONLY
}
