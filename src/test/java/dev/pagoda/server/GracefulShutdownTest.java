package dev.pagoda.server;

import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.FinishReason;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Shutdown refuses new requests, lets running ones finish within the timeout, and cuts (aborts) the rest. */
class GracefulShutdownTest {
    private static final EngineConfig ENGINE = EngineConfig.builder().maxModelLen(512).kvCacheMemory(4L << 20).build();
    /** The longest stream the context allows, so that it is still running while shutdown is probed. */
    private static final int LONG = 480;

    private static Iterator<String> stream(ServerFixture fx, int maxTokens) throws Exception {
        String body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": " + maxTokens + ", \"ignore_eos\": true, \"stream\": true}";
        HttpResponse<java.util.stream.Stream<String>> r = Http.CLIENT.send(HttpRequest.newBuilder(URI.create(fx.url("/v1/completions")))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
        Iterator<String> lines = r.body().iterator();
        assertThat(lines.next()).startsWith("data: ");
        return lines;
    }

    @Test
    void runningStreamsFinishAndNewRequestsAreRefused() throws Exception {
        ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL));
        try {
            Iterator<String> running = stream(fx, LONG);
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(fx.server::shutdown);
            HttpResponse<String> refused;
            do {
                refused = Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Hi\", \"max_tokens\": 1}");
            } while (refused.statusCode() == 200);
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).isPresent();
            assertThat(Http.json(refused.body()).get("error").get("message").asText()).contains("shutting down");
            StringBuilder rest = new StringBuilder();
            running.forEachRemaining(l -> rest.append(l).append('\n'));
            assertThat(rest.toString()).endsWith("data: [DONE]\n\n");
            stopping.get();
            assertThat(fx.llm.engine().stats().finished()).doesNotContainKey(FinishReason.ABORT);
        } finally {
            fx.close();
        }
    }

    @Test
    void streamsPastTheTimeoutAreCutAndAborted() throws Exception {
        ServerConfig config = new ServerConfig("127.0.0.1", 0, null, ServerFixture.MODEL, 16, 1 << 20, Duration.ofMillis(20));
        ServerFixture fx = new ServerFixture(ENGINE, config);
        try {
            Iterator<String> running = stream(fx, LONG);
            fx.server.shutdown();
            StringBuilder rest = new StringBuilder();
            try {
                running.forEachRemaining(l -> rest.append(l).append('\n'));
            } catch (RuntimeException cut) {
                // The connection was closed under the client: what a cut stream looks like.
            }
            assertThat(rest.toString()).doesNotContain("[DONE]");
            fx.llm.engine().awaitIdle();
            assertThat(fx.llm.engine().stats().finished()).containsEntry(FinishReason.ABORT, 1L);
            assertThat(fx.llm.engine().kvUsage().blocksUsed()).isZero();
        } finally {
            fx.close();
        }
    }
}
