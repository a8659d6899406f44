package dev.pagoda.server;

import dev.pagoda.engine.CompletionOutput;
import dev.pagoda.engine.RequestResult;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One request's access-log line: who asked what, the status answered, and for a generation its tokens, time until
 * the engine first scheduled it (queueing), time to first token and finish reasons (vLLM logs the same per request). Filled by the request's own thread; written once, when
 * its exchange ends.
 */
final class AccessRecord {
    /** The status logged for a client that went away before any response was sent (nginx's "client closed request"). */
    static final int CLIENT_GONE = 499;

    private final String requestId;
    private final String route;
    private final String client;
    private final long startNanos;
    private int promptTokens = -1;
    private int outputTokens;
    private int cachedTokens;
    private long firstScheduledNanos;
    private long firstTokenNanos;
    private final Set<String> finishReasons = new LinkedHashSet<>();

    AccessRecord(String requestId, String method, String path, String client, long startNanos) {
        this.requestId = requestId;
        this.route = method + " " + path;
        this.client = client;
        this.startNanos = startNanos;
    }

    /** A generation's finished engine requests: tokens summed, the earliest first step and token, each distinct finish reason. */
    void results(List<RequestResult> results) {
        promptTokens = 0;
        for (RequestResult r : results) {
            promptTokens += r.promptTokenIds().length;
            cachedTokens += r.metrics().cachedPromptTokens();
            firstScheduledNanos = earliest(firstScheduledNanos, r.metrics().firstScheduledNanos());
            firstTokenNanos = earliest(firstTokenNanos, r.metrics().firstTokenNanos());
            for (CompletionOutput c : r.outputs()) {
                outputTokens += c.tokenIds().length;
                finishReasons.add(c.finishReason().openAiName());
            }
        }
    }

    /** The earlier of two times, 0 standing for none. */
    private static long earliest(long a, long b) {
        return a == 0 || (b != 0 && b < a) ? b : a;
    }

    /** The line's fields; {@code status} as answered, or {@link #CLIENT_GONE}. */
    Map<String, Object> fields(int status, long endNanos) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("request_id", requestId);
        f.put("route", route);
        f.put("status", status);
        boolean generated = promptTokens >= 0;
        f.put("prompt_tokens", generated ? promptTokens : null);
        f.put("cached_tokens", generated ? cachedTokens : null);
        f.put("output_tokens", generated ? outputTokens : null);
        f.put("queue_s", firstScheduledNanos == 0 ? null : (firstScheduledNanos - startNanos) / 1e9);
        f.put("ttft_s", firstTokenNanos == 0 ? null : (firstTokenNanos - startNanos) / 1e9);
        f.put("duration_s", (endNanos - startNanos) / 1e9);
        f.put("finish_reason", finishReasons.isEmpty() ? null : String.join(",", finishReasons));
        f.put("client", client);
        return f;
    }
}
