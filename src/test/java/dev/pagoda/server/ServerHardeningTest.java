package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pagoda.Await;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.EngineGate;
import dev.pagoda.engine.FinishReason;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hostile-client findings of issue 11, one test each: tiny temperatures, clients that leave, oversized prompts,
 * incomplete requests and connection floods, requests that can never be admitted, and the smaller ones (HEAD,
 * /health while draining, out-of-vocabulary stop tokens, best_of with greedy sampling, /metrics and the API key).
 * No test depends on how fast the engine is: requests that must stay unfinished are held by an {@link EngineGate}.
 */
class ServerHardeningTest {
    private static final EngineConfig ENGINE = EngineConfig.builder().maxModelLen(256).kvCacheMemory(4L << 20).build();

    private static JsonNode error(HttpResponse<String> r, int status, String param) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode e = Http.json(r.body()).get("error");
        assertThat(e.get("param").isNull() ? null : e.get("param").asText()).isEqualTo(param);
        return e;
    }

    /** Finding 1: a positive temperature too small to divide by samples greedily, never garbage. */
    @Test
    void tinyTemperaturesActAsGreedy() {
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL))) {
            String greedy = Http.json(Http.post(fx.url("/v1/completions"),
                    "{\"prompt\": \"Once upon a time\", \"max_tokens\": 8, \"temperature\": 0}").body()).get("choices").get(0).get("text").asText();
            for (String t : new String[] {"1e-40", "1e-45", "1e-44", "1e-6"}) {
                HttpResponse<String> r = Http.post(fx.url("/v1/completions"),
                        "{\"prompt\": \"Once upon a time\", \"max_tokens\": 8, \"temperature\": " + t + ", \"logprobs\": 2}");
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                JsonNode choice = Http.json(r.body()).get("choices").get(0);
                assertThat(choice.get("text").asText()).as("temperature " + t).isEqualTo(greedy);
                JsonNode lp = choice.get("logprobs");
                for (int i = 0; i < lp.get("token_logprobs").size(); i++) {
                    double top = Double.NEGATIVE_INFINITY;
                    for (JsonNode v : lp.get("top_logprobs").get(i)) {
                        top = Math.max(top, v.asDouble());
                    }
                    assertThat(lp.get("token_logprobs").get(i).asDouble()).as("temperature %s token %d", t, i).isEqualTo(top);
                }
            }
        }
    }

    /** Finding 2: every request, streamed or not, is aborted when its client goes away, and counted as an abort. */
    @Test
    void clientsThatLeaveHaveTheirRequestsAborted() throws Exception {
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL))) {
            OpenAiServer server = fx.server;
            try (EngineGate gate = new EngineGate(fx.llm.engine())) {
                try (Socket whole = RawHttp.connect(server.port())) {
                    RawHttp.send(whole, RawHttp.post("/v1/completions",
                            "{\"prompt\": \"Once upon a time\", \"max_tokens\": 200, \"ignore_eos\": true, \"n\": 4, \"temperature\": 1}"));
                    Await.until(() -> server.waiting() == 1, "the request to be admitted");
                }
                Await.until(() -> server.metrics().disconnected() == 1, "the non-streaming request's client to be found gone");
                try (Socket streamed = RawHttp.connect(server.port())) {
                    RawHttp.send(streamed, RawHttp.post("/v1/completions",
                            "{\"prompt\": \"Once upon a time\", \"max_tokens\": 200, \"ignore_eos\": true, \"stream\": true}"));
                    RawHttp.readUntil(streamed, "\r\n\r\n");
                }
                Await.until(() -> server.metrics().disconnected() == 2, "the streaming request's client to be found gone");
            }
            fx.llm.engine().awaitIdle();
            // Completions are counted: 4 of the first request, 1 of the second.
            assertThat(fx.llm.engine().stats().finished()).containsEntry(FinishReason.ABORT, 5L).hasSize(1);
            assertThat(fx.llm.engine().kvUsage().blocksUsed()).isZero();
            Await.until(() -> server.metricsText().contains("pagoda:request_success_total{model_name=\"stories260K\",finished_reason=\"abort\"} 2"),
                    "both aborts in /metrics");
            assertThat(server.metricsText()).contains("pagoda:requests_disconnected_total{model_name=\"stories260K\"} 2");
        }
    }

    /** Finding 3: a prompt that cannot fit is refused after bounded work: the default body limit follows the context, and text past it is not tokenized. */
    @Test
    void oversizedPromptsAreRefusedWithoutTokenizing() {
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL))) {
            assertThat(fx.server.maxBodyBytes()).isEqualTo(1L << 20);
            String big = "{\"prompt\": \"" + "Once upon a time ".repeat(500_000) + "\"}";
            assertThat(error(Http.post(fx.url("/v1/completions"), big), 413, null).get("code").asText()).isEqualTo("request_too_large");
            assertThat(fx.server.metrics().rejected(Rejection.BODY_TOO_LARGE)).isEqualTo(1);
        }
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL).toBuilder().maxBodyBytes(16L << 20).build())) {
            String big = "{\"prompt\": \"" + "Once upon a time ".repeat(900_000) + "\"}";
            String msg = error(Http.post(fx.url("/v1/completions"), big), 400, "prompt").get("message").asText();
            assertThat(msg).contains("256").contains("not tokenized");
            String chat = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + "Hi there. ".repeat(900_000) + "\"}]}";
            error(Http.post(fx.url("/v1/chat/completions"), chat), 400, "messages");
            assertThat(fx.server.metrics().rejected(Rejection.PROMPT_TOO_LONG)).isEqualTo(2);
            assertThat(fx.server.metricsText()).contains("pagoda:requests_rejected_total{model_name=\"stories260K\",reason=\"prompt_too_long\"} 2");
            // A prompt near the limit is still tokenized and answered by the usual context check.
            error(Http.post(fx.url("/v1/completions"), "{\"prompt\": \"" + "Once upon a time ".repeat(100) + "\"}"), 400, "prompt");
        }
    }

    /**
     * Finding 3: a huge prompt is refused while its body still arrives. The server reads it only until a string passes
     * what any prompt could need (a bounded prefix, never the whole body in memory), answers 400 without waiting for
     * the rest, and drops what follows; a chunked body is cut at the body limit the same way (413).
     */
    @Test
    void hugePromptsAreRefusedBeforeTheirBodyArrives() throws Exception {
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL).toBuilder().maxBodyBytes(16L << 20).build())) {
            long maxChars = Math.max(256L * PromptBound.maxTokenBytes(fx.llm.model().tokenizer()), JsonBody.MIN_STRING_CHARS);
            String head = "{\"model\": \"stories260K\", \"prompt\": \"";
            try (Socket s = RawHttp.connect(fx.server.port())) {
                RawHttp.send(s, "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 15000000\r\n\r\n" + head);
                // The limit and one parser buffer segment (64 Ki chars) more of the 15 MB announced: the answer must come without the rest.
                RawHttp.send(s, "x".repeat((int) maxChars + (64 << 10) + 4096));
                String answer = RawHttp.readUntil(s, "read further");
                assertThat(answer).startsWith("HTTP/1.1 400 ").contains("Connection: close").contains("\"param\":\"prompt\"")
                        .contains("string at /prompt longer than " + maxChars + " characters").contains("not tokenized");
            }
            try (Socket s = RawHttp.connect(fx.server.port())) {
                RawHttp.send(s, "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
                // Whitespace, which costs the parser nothing, until past the 16 MiB limit.
                String start = "{\"prompt\": \"Hi\"";
                RawHttp.send(s, Integer.toHexString(start.length()) + "\r\n" + start + "\r\n");
                for (int i = 0; i <= 16; i++) {
                    RawHttp.send(s, Integer.toHexString(1 << 20) + "\r\n" + " ".repeat(1 << 20) + "\r\n");
                }
                assertThat(RawHttp.readUntil(s, "request_too_large")).startsWith("HTTP/1.1 413 ");
            }
            assertThat(fx.server.metrics().rejected(Rejection.PROMPT_TOO_LONG)).isEqualTo(1);
            assertThat(fx.server.metrics().rejected(Rejection.BODY_TOO_LARGE)).isEqualTo(1);
            assertThat(Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Hi\", \"max_tokens\": 1}").statusCode()).isEqualTo(200);
        }
    }

    /**
     * Finding 3: a body declared larger than the limit is refused by its Content-Length before any of it is read,
     * so a client announcing 50 MB gets its 413 at once (with Expect: 100-continue, no 100 is sent either).
     */
    @Test
    void bodiesDeclaredTooLargeAreRefusedBeforeTheyAreSent() throws Exception {
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL).toBuilder().maxBodyBytes(64 << 10).build())) {
            for (String expect : new String[] {"", "Expect: 100-continue\r\n"}) {
                try (Socket s = RawHttp.connect(fx.server.port())) {
                    RawHttp.send(s, "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + expect
                            + "Content-Length: 50000000\r\n\r\n{\"prompt\": \"");
                    String answer = RawHttp.readUntil(s, "request_too_large");
                    assertThat(answer).startsWith("HTTP/1.1 413 ").contains("Connection: close").doesNotContain("100 Continue");
                }
            }
            assertThat(fx.server.metrics().rejected(Rejection.BODY_TOO_LARGE)).isEqualTo(2);
            assertThat(Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Hi\", \"max_tokens\": 1}").statusCode()).isEqualTo(200);
        }
    }

    /**
     * Finding 4: incomplete requests time out (header and body), and connections past the cap are refused cleanly. Each
     * case has only its own timeout short: whatever it waits for must never be cut by another (a client paused between
     * connecting and sending its headers would meet a short header timeout in the body's case).
     */
    @Test
    void incompleteRequestsTimeOutAndConnectionsAreCapped() throws Exception {
        Duration never = Await.HANG_GUARD.multipliedBy(2);
        ServerConfig quickHeaders = ServerConfig.loopback(ServerFixture.MODEL).toBuilder()
                .timeouts(Duration.ofMillis(300), never, Duration.ofSeconds(5)).build();
        try (ServerFixture fx = new ServerFixture(ENGINE, quickHeaders)) {
            try (Socket s = RawHttp.connect(fx.server.port())) {
                RawHttp.send(s, "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-");
                assertThat(RawHttp.readToClose(s)).startsWith("HTTP/1.1 408 ");
            }
            try (Socket s = RawHttp.connect(fx.server.port())) {
                // Nothing sent at all: the first request's header timeout runs from the connection.
                assertThat(RawHttp.readToClose(s)).startsWith("HTTP/1.1 408 ");
            }
            assertThat(fx.server.metrics().rejected(Rejection.HEADER_TIMEOUT)).isEqualTo(2);
            Await.until(() -> fx.server.openConnections() == 0, "timed-out connections to close");
        }
        ServerConfig quickBodies = ServerConfig.loopback(ServerFixture.MODEL).toBuilder()
                .timeouts(never, Duration.ofMillis(300), Duration.ofSeconds(5)).build();
        try (ServerFixture fx = new ServerFixture(ENGINE, quickBodies)) {
            try (Socket s = RawHttp.connect(fx.server.port())) {
                RawHttp.send(s, "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"prompt\": ");
                String answer = RawHttp.readToClose(s);
                assertThat(answer).startsWith("HTTP/1.1 408 ").contains("request_timeout");
            }
            assertThat(fx.server.metrics().rejected(Rejection.BODY_TIMEOUT)).isEqualTo(1);
            assertThat(fx.server.metrics().rejected(Rejection.HEADER_TIMEOUT)).isZero();
            Await.until(() -> fx.server.openConnections() == 0, "timed-out connections to close");
        }
        // Idle connections hold the cap: no header timeout may close one before the fifth connection is refused.
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL).toBuilder().maxConnections(4)
                .timeouts(never, never, never).build())) {
            Socket[] idle = new Socket[4];
            for (int i = 0; i < idle.length; i++) {
                idle[i] = RawHttp.connect(fx.server.port());
            }
            Await.until(() -> fx.server.openConnections() == 4, "four open connections");
            try (Socket fifth = RawHttp.connect(fx.server.port())) {
                RawHttp.send(fifth, RawHttp.post("/v1/completions", "{\"prompt\": \"Hi\", \"max_tokens\": 1}"));
                String answer = RawHttp.readToClose(fifth);
                assertThat(answer).startsWith("HTTP/1.1 503 ").contains("Retry-After: 1").contains("--max-connections");
            }
            assertThat(fx.server.metrics().rejected(Rejection.TOO_MANY_CONNECTIONS)).isEqualTo(1);
            for (Socket s : idle) {
                s.close();
            }
            Await.until(() -> fx.server.openConnections() == 0, "the idle connections to close");
            assertThat(Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Hi\", \"max_tokens\": 1}").statusCode()).isEqualTo(200);
        }
    }

    /** Finding 5: a request that can never be admitted is a 400 naming the limit; 503 only when the queue is full now. */
    @Test
    void requestsLargerThanTheWaitingQueueAre400() {
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL).toBuilder().maxWaiting(4).build())) {
            String eight = "{\"prompt\": [" + "\"Hi\",".repeat(7) + "\"Hi\"], \"max_tokens\": 1}";
            assertThat(error(Http.post(fx.url("/v1/completions"), eight), 400, "prompt").get("message").asText()).contains("--max-waiting");
            String four = "{\"prompt\": [" + "\"Hi\",".repeat(3) + "\"Hi\"], \"max_tokens\": 1}";
            assertThat(Http.post(fx.url("/v1/completions"), four).statusCode()).isEqualTo(200);
            assertThat(fx.server.waiting()).isZero();
            assertThat(fx.server.metrics().rejected(Rejection.TOO_MANY_PROMPTS)).isEqualTo(1);
        }
    }

    /** Finding 6: HEAD, /health while draining, out-of-vocabulary stop tokens, best_of with greedy sampling, public /metrics. */
    @Test
    void smallerFindings() throws Exception {
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL).toBuilder().apiKey("k").publicMetrics(true).build())) {
            try (Socket s = RawHttp.connect(fx.server.port())) {
                RawHttp.send(s, "HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                assertThat(RawHttp.readToClose(s)).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\n");
            }
            try (Socket s = RawHttp.connect(fx.server.port())) {
                RawHttp.send(s, "HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                String answer = RawHttp.readToClose(s);
                assertThat(answer).startsWith("HTTP/1.1 200 ").contains("Content-Length: ").endsWith("\r\n\r\n");
            }
            String auth = "Bearer k";
            error(Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Hi\", \"stop_token_ids\": [99999]}", "Authorization", auth),
                    400, "stop_token_ids");
            error(Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Hi\", \"best_of\": 4, \"temperature\": 0}", "Authorization", auth),
                    400, "best_of");
            assertThat(Http.get(fx.url("/metrics")).statusCode()).isEqualTo(200);
            assertThat(Http.get(fx.url("/v1/models")).statusCode()).isEqualTo(401);

            Iterator<String> running;
            try (EngineGate gate = new EngineGate(fx.llm.engine())) {
                HttpResponse<java.util.stream.Stream<String>> r = Http.CLIENT.send(HttpRequest.newBuilder(URI.create(fx.url("/v1/completions")))
                        .header("Authorization", auth).POST(HttpRequest.BodyPublishers.ofString(
                                "{\"prompt\": \"Once upon a time\", \"max_tokens\": 5, \"stream\": true}")).build(),
                        HttpResponse.BodyHandlers.ofLines());
                running = r.body().iterator();
                assertThat(Http.get(fx.url("/health")).statusCode()).isEqualTo(200);
                CompletableFuture<Void> stopping = CompletableFuture.runAsync(fx.server::shutdown);
                Await.until(() -> Http.get(fx.url("/health")).statusCode() == 503, "/health to answer 503 while draining");
                gate.close();
                running.forEachRemaining(l -> { });
                stopping.get();
            }
        }
    }
}
