package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pagoda.Await;
import dev.pagoda.engine.EngineConfig;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Every error as OpenAI answers it: status, {@code {"error": {message, type, param, code}}}, and no harm to others. */
class ErrorResponsesTest {
    private static ServerFixture open;
    /** One sequence at a time, one waiting, an API key and a 4 KiB body limit. */
    private static ServerFixture strict;
    private static final String KEY = "sk-test";

    @BeforeAll
    static void start() {
        open = ServerFixture.start();
        strict = new ServerFixture(EngineConfig.builder().maxModelLen(256).kvCacheMemory(4L << 20).maxNumSeqs(1).build(),
                new ServerConfig("127.0.0.1", 0, KEY, ServerFixture.MODEL, 1, 4096, Duration.ofSeconds(5)));
    }

    @AfterAll
    static void stop() {
        open.close();
        strict.close();
    }

    private static JsonNode error(HttpResponse<String> r, int status, String param) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode e = Http.json(r.body()).get("error");
        assertThat(e).as(r.body()).isNotNull();
        assertThat(e.get("message").asText()).isNotBlank();
        assertThat(e.get("type").asText()).isNotBlank();
        assertThat(e.has("code")).isTrue();
        assertThat(e.get("param").isNull() ? null : e.get("param").asText()).isEqualTo(param);
        return e;
    }

    private static HttpResponse<String> complete(String body) {
        return Http.post(open.url("/v1/completions"), body);
    }

    @Test
    void badJsonAndWrongShapes() {
        assertThat(error(complete("{\"prompt\": \"Hi\", "), 400, null).get("message").asText()).contains("not valid JSON");
        error(complete("[1, 2]"), 400, null);
        error(complete("{\"prompt\": \"Hi\"} trailing"), 400, null);
        error(complete("{\"max_tokens\": 4}"), 400, "prompt");
        error(complete("{\"prompt\": {\"a\": 1}}"), 400, "prompt");
        error(complete("{\"prompt\": [1, \"x\"]}"), 400, "prompt");
        error(Http.post(open.url("/v1/chat/completions"), "{\"messages\": []}"), 400, "messages");
        error(Http.post(open.url("/v1/chat/completions"), "{\"messages\": [{\"content\": \"hi\"}]}"), 400, "messages");
    }

    @Test
    void wrongTypes() {
        error(complete("{\"prompt\": \"Hi\", \"max_tokens\": \"ten\"}"), 400, "max_tokens");
        error(complete("{\"prompt\": \"Hi\", \"max_tokens\": 2.5}"), 400, "max_tokens");
        error(complete("{\"prompt\": \"Hi\", \"temperature\": \"hot\"}"), 400, "temperature");
        error(complete("{\"prompt\": \"Hi\", \"stream\": \"yes\"}"), 400, "stream");
        error(complete("{\"prompt\": \"Hi\", \"stop\": 3}"), 400, "stop");
        error(complete("{\"prompt\": \"Hi\", \"logit_bias\": {\"abc\": 1}}"), 400, "logit_bias");
        error(complete("{\"prompt\": \"Hi\", \"stream_options\": {\"include_usage\": true}}"), 400, "stream_options");
        error(Http.post(open.url("/v1/chat/completions"), "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
                + "\"chat_template_kwargs\": true}"), 400, "chat_template_kwargs");
    }

    @Test
    void outOfRangeValuesNameTheParameter() {
        assertThat(error(complete("{\"prompt\": \"Hi\", \"temperature\": -1}"), 400, "temperature").get("message").asText())
                .contains("[0, 100]");
        error(complete("{\"prompt\": \"Hi\", \"top_p\": 0}"), 400, "top_p");
        error(complete("{\"prompt\": \"Hi\", \"max_tokens\": 0}"), 400, "max_tokens");
        error(complete("{\"prompt\": \"Hi\", \"logprobs\": 99}"), 400, "logprobs");
        error(complete("{\"prompt\": \"Hi\", \"presence_penalty\": 3}"), 400, "presence_penalty");
        error(complete("{\"prompt\": [600]}"), 400, "prompt");
        error(Http.post(open.url("/v1/chat/completions"), "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
                + "\"top_logprobs\": 2}"), 400, "top_logprobs");
    }

    @Test
    void promptsLongerThanTheContextSayTheLimits() {
        String longPrompt = "[" + "1,".repeat(299) + "1]";
        String msg = error(complete("{\"prompt\": " + longPrompt + "}"), 400, "prompt").get("message").asText();
        assertThat(msg).contains("256").contains("300");
        msg = error(complete("{\"prompt\": \"Once upon a time\", \"max_tokens\": 255}"), 400, "max_tokens").get("message").asText();
        assertThat(msg).contains("256").contains("255");
        error(Http.post(open.url("/v1/chat/completions"), "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
                + "\"max_tokens\": 1000}"), 400, "max_tokens");
    }

    @Test
    void unknownModelPathAndMethod() {
        assertThat(error(complete("{\"model\": \"gpt-4\", \"prompt\": \"Hi\"}"), 404, "model").get("code").asText())
                .isEqualTo("model_not_found");
        error(Http.post(open.url("/v1/chat/completions"), "{\"model\": \"gpt-4\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"),
                404, "model");
        error(Http.get(open.url("/v1/embeddings")), 404, null);
        error(Http.get(open.url("/v1/completions")), 405, null);
        // None of these disturbed the server.
        assertThat(complete("{\"prompt\": \"Hi\", \"max_tokens\": 3}").statusCode()).isEqualTo(200);
    }

    @Test
    void apiKeyGuardsEverythingButHealth() {
        String body = "{\"prompt\": \"Hi\", \"max_tokens\": 2}";
        assertThat(error(Http.post(strict.url("/v1/completions"), body), 401, null).get("code").asText()).isEqualTo("invalid_api_key");
        error(Http.post(strict.url("/v1/completions"), body, "Authorization", "Bearer wrong"), 401, null);
        error(Http.get(strict.url("/v1/models")), 401, null);
        error(Http.get(strict.url("/metrics")), 401, null);
        assertThat(Http.get(strict.url("/health")).statusCode()).isEqualTo(200);
        assertThat(Http.post(strict.url("/v1/completions"), body, "Authorization", "Bearer " + KEY).statusCode()).isEqualTo(200);
    }

    @Test
    void oversizedBodyIs413() {
        String big = "{\"prompt\": \"" + "a".repeat(10_000) + "\"}";
        assertThat(error(Http.post(strict.url("/v1/completions"), big, "Authorization", "Bearer " + KEY), 413, null)
                .get("code").asText()).isEqualTo("request_too_large");
    }

    @Test
    void fullWaitingQueueIs503WithRetryAfter() throws Exception {
        String auth = "Bearer " + KEY;
        // A runs (the only sequence slot), held by the gate after its first step; B waits (the only waiting place); C is refused.
        String stream = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 40, \"ignore_eos\": true, \"temperature\": 0, \"stream\": true}";
        java.util.Iterator<String> aLines;
        CompletableFuture<HttpResponse<String>> b;
        try (StepGate gate = new StepGate(strict.llm.engine(), 1)) {
            var a = Http.CLIENT.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(strict.url("/v1/completions")))
                    .header("Authorization", auth).POST(java.net.http.HttpRequest.BodyPublishers.ofString(stream)).build(),
                    HttpResponse.BodyHandlers.ofLines());
            aLines = a.body().iterator();
            assertThat(aLines.next()).startsWith("data: ");
            gate.awaitHeld();
            b = Http.CLIENT.sendAsync(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(strict.url("/v1/completions"))).header("Authorization", auth)
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(stream)).build(), HttpResponse.BodyHandlers.ofString());
            Await.until(() -> strict.server.waiting() == 1, "B to be admitted");
            HttpResponse<String> c = Http.post(strict.url("/v1/completions"), stream, "Authorization", auth);
            assertThat(error(c, 503, null).get("code").asText()).isEqualTo("server_overloaded");
            assertThat(c.headers().firstValue("Retry-After")).hasValue("1");
        }
        // A and B complete untouched.
        StringBuilder rest = new StringBuilder();
        aLines.forEachRemaining(l -> rest.append(l).append('\n'));
        assertThat(rest.toString()).endsWith("data: [DONE]\n\n");
        assertThat(Http.events(b.get().body())).hasSize(40);
        assertThat(strict.server.metricsText()).contains("pagoda:num_requests_rejected_total{model_name=\"stories260K\"} 1");
    }
}
