package dev.pagoda.engine;

/**
 * When things happened to a request (System.nanoTime), for latency metrics and summaries.
 *
 * @param firstScheduledNanos when a step first computed the request (0 if never): queue time ends there
 * @param firstTokenNanos     when the first output token was sampled (0 if none)
 * @param cachedPromptTokens  prompt tokens served by the prefix cache when the request was first scheduled
 */
public record RequestMetrics(long arrivalNanos, long firstScheduledNanos, long firstTokenNanos, long finishedNanos,
                             int promptTokens, int outputTokens, int cachedPromptTokens) {
    /** Without prefix cache hits. */
    public RequestMetrics(long arrivalNanos, long firstScheduledNanos, long firstTokenNanos, long finishedNanos, int promptTokens,
                          int outputTokens) {
        this(arrivalNanos, firstScheduledNanos, firstTokenNanos, finishedNanos, promptTokens, outputTokens, 0);
    }

    /** Time spent waiting before the first step that computed the request. */
    public double queueSeconds() {
        return firstScheduledNanos == 0 ? 0 : (firstScheduledNanos - arrivalNanos) / 1e9;
    }

    /** Time to first token, queueing and prefill included. */
    public double ttftSeconds() {
        return firstTokenNanos == 0 ? 0 : (firstTokenNanos - arrivalNanos) / 1e9;
    }

    public double prefillTokensPerSecond() {
        return firstTokenNanos <= arrivalNanos ? 0 : promptTokens * 1e9 / (firstTokenNanos - arrivalNanos);
    }

    /** Decode rate over the tokens after the first (the first comes out of prefill). */
    public double decodeTokensPerSecond() {
        long d = finishedNanos - firstTokenNanos;
        return firstTokenNanos == 0 || d <= 0 || outputTokens < 2 ? 0 : (outputTokens - 1) * 1e9 / d;
    }
}
