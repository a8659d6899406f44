package dev.pagoda.server;

import dev.pagoda.Await;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.FinishReason;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Shutdown refuses new requests, lets running ones finish within the timeout, and cuts (aborts) the rest. The running
 * stream is held in the middle of its generation by a {@link StepGate} while shutdown is probed, never by being long.
 */
class GracefulShutdownTest {
    private static final EngineConfig ENGINE = EngineConfig.builder().maxModelLen(512).kvCacheMemory(4L << 20).build();
    private static final String STREAM = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 40, \"ignore_eos\": true, \"stream\": true}";

    /** Starts a stream and returns its lines once its first event has arrived and the engine is held after that step. */
    private static Iterator<String> heldStream(ServerFixture fx, StepGate gate) throws Exception {
        HttpResponse<java.util.stream.Stream<String>> r = Http.CLIENT.send(HttpRequest.newBuilder(URI.create(fx.url("/v1/completions")))
                .POST(HttpRequest.BodyPublishers.ofString(STREAM)).build(), HttpResponse.BodyHandlers.ofLines());
        Iterator<String> lines = r.body().iterator();
        assertThat(lines.next()).startsWith("data: ");
        gate.awaitHeld();
        return lines;
    }

    @Test
    void runningStreamsFinishAndNewRequestsAreRefused() throws Exception {
        // A shutdown timeout no hold can reach: the stream must finish, not be cut.
        ServerFixture fx = new ServerFixture(ENGINE, new ServerConfig("127.0.0.1", 0, null, ServerFixture.MODEL, 16, 0,
                Await.HANG_GUARD.multipliedBy(2)));
        try {
            Iterator<String> running;
            CompletableFuture<Void> stopping;
            try (StepGate gate = new StepGate(fx.llm.engine(), 1)) {
                running = heldStream(fx, gate);
                stopping = CompletableFuture.runAsync(fx.server::shutdown);
                // /health answers without the engine: 503 once the server drains.
                Await.until(() -> Http.get(fx.url("/health")).statusCode() == 503, "the server to drain");
                HttpResponse<String> refused = Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Hi\", \"max_tokens\": 1}");
                assertThat(refused.statusCode()).isEqualTo(503);
                assertThat(refused.headers().firstValue("Retry-After")).isPresent();
                assertThat(Http.json(refused.body()).get("error").get("message").asText()).contains("shutting down");
                assertThat(stopping).as("shutdown waits for the running stream").isNotDone();
            }
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
            Iterator<String> running;
            CountDownLatch aborted = new CountDownLatch(1);
            fx.llm.engine().setAbortHook(id -> aborted.countDown());
            try (StepGate gate = new StepGate(fx.llm.engine(), 1)) {
                running = heldStream(fx, gate);
                fx.server.shutdown();
                // The cut stream's handler finds its connection closed while the engine is still held, and aborts.
                Await.until(aborted, "the cut stream's request to be aborted");
            }
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
