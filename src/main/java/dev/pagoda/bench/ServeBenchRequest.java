package dev.pagoda.bench;

/**
 * One benchmark request and what the client measured of it (seconds from its send time).
 *
 * @param prompt       token ids sent as the prompt
 * @param outputTokens tokens the request generates (with ignore_eos)
 * @param maxTokens    max_tokens sent: {@code outputTokens}, or more when the client asks for the rest of the context
 *                     and closes the stream after {@code outputTokens} (what a client does at EOS)
 */
public record ServeBenchRequest(int[] prompt, int outputTokens, int maxTokens) {
    public ServeBenchRequest(int[] prompt, int outputTokens) {
        this(prompt, outputTokens, outputTokens);
    }

    /** The same request asking for all the context its prompt leaves, as a client sending no max_tokens does. */
    public ServeBenchRequest askingForTheRest(int maxModelLen) {
        return new ServeBenchRequest(prompt, outputTokens, maxModelLen - prompt.length);
    }

    /**
     * What happened to one request.
     *
     * @param sendSeconds   when it was sent, from the benchmark's start
     * @param ttft          time to the first streamed token
     * @param itls          every gap between streamed chunks after the first
     * @param latency       send to the last chunk
     * @param outputTokens  tokens generated (the usage chunk's count)
     * @param error         why it failed, or null
     */
    public record Outcome(int promptTokens, double sendSeconds, double ttft, double[] itls, double latency, int outputTokens,
                          String error) {
        public boolean success() {
            return error == null;
        }

        /** (latency - TTFT) / (output tokens - 1); 0 for a single token. */
        public double tpot() {
            return outputTokens > 1 ? (latency - ttft) / (outputTokens - 1) : 0;
        }

        static Outcome failed(int promptTokens, double sendSeconds, String error) {
            return new Outcome(promptTokens, sendSeconds, 0, new double[0], 0, 0, error);
        }
    }
}
