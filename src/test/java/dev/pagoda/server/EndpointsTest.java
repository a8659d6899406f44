package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pagoda.Await;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.sampling.SamplingParams;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The utility endpoints, batched prompts, client hang-up, and the Prometheus text. */
class EndpointsTest {
    private static ServerFixture fx;

    @BeforeAll
    static void start() {
        fx = ServerFixture.start();
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    @Test
    void healthVersionModels() {
        assertThat(Http.get(fx.url("/health")).statusCode()).isEqualTo(200);
        assertThat(Http.json(Http.get(fx.url("/version")).body()).get("version").asText()).isEqualTo(OpenAiServer.VERSION);
        JsonNode models = Http.json(Http.get(fx.url("/v1/models")).body());
        assertThat(models.get("object").asText()).isEqualTo("list");
        assertThat(models.get("data").get(0).get("id").asText()).isEqualTo(ServerFixture.MODEL);
        assertThat(models.get("data").get(0).get("max_model_len").asInt()).isEqualTo(256);
    }

    @Test
    void tokenizeAndDetokenizeRoundTrip() {
        JsonNode t = Http.json(Http.post(fx.url("/tokenize"), "{\"prompt\": \"Once upon a time\"}").body());
        int[] expected = fx.llm.model().tokenizer().encode("Once upon a time", true, false);
        assertThat(t.get("count").asInt()).isEqualTo(expected.length);
        assertThat(Http.JSON.convertValue(t.get("tokens"), int[].class)).containsExactly(expected);
        JsonNode d = Http.json(Http.post(fx.url("/detokenize"), "{\"tokens\": " + t.get("tokens") + "}").body());
        assertThat(d.get("prompt").asText()).contains("Once upon a time");
        JsonNode chat = Http.json(Http.post(fx.url("/tokenize"), "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}").body());
        assertThat(Http.JSON.convertValue(chat.get("tokens"), int[].class))
                .containsExactly(fx.llm.model().tokenizer().encode("user: Hi\nassistant:", true, false));
        assertThat(Http.post(fx.url("/detokenize"), "{\"tokens\": [99999]}").statusCode()).isEqualTo(400);
    }

    @Test
    void everyResponseCarriesARequestIdAndKeepsTheClients() {
        String mine = Http.post(fx.url("/tokenize"), "{\"prompt\": \"Once\"}", "x-request-id", "my-id-42").headers()
                .firstValue("x-request-id").orElseThrow();
        assertThat(mine).isEqualTo("my-id-42");
        String a = Http.get(fx.url("/v1/models")).headers().firstValue("x-request-id").orElseThrow();
        String b = Http.get(fx.url("/no-such-route")).headers().firstValue("x-request-id").orElseThrow();
        assertThat(a).isNotBlank().isNotEqualTo(b);
    }

    @Test
    void tokenizeReturnsTokenStringsOnRequest() {
        JsonNode t = Http.json(Http.post(fx.url("/tokenize"), "{\"prompt\": \"Once upon\", \"return_token_strs\": true}").body());
        int[] ids = Http.JSON.convertValue(t.get("tokens"), int[].class);
        assertThat(t.get("token_strs")).hasSize(ids.length);
        for (int i = 0; i < ids.length; i++) {
            assertThat(t.get("token_strs").get(i).asText()).isEqualTo(fx.llm.model().tokenizer().piece(ids[i]));
        }
        assertThat(Http.json(Http.post(fx.url("/tokenize"), "{\"prompt\": \"Once\"}").body()).has("token_strs")).isFalse();
    }

    @Test
    void batchedPromptsGetOneChoiceEachInPromptOrder() {
        List<String> prompts = List.of("Lily wanted to", "The little dog");
        List<RequestResult> solo = List.of(fx.llm.generate(List.of(prompts.get(0)), SamplingParams.greedy(10)).get(0),
                fx.llm.generate(List.of(prompts.get(1)), SamplingParams.greedy(10)).get(0));
        String body = "{\"prompt\": [\"Lily wanted to\", \"The little dog\"], \"max_tokens\": 10, \"temperature\": 0";
        JsonNode whole = Http.json(Http.post(fx.url("/v1/completions"), body + "}").body());
        for (int i = 0; i < 2; i++) {
            assertThat(whole.get("choices").get(i).get("index").asInt()).isEqualTo(i);
            assertThat(whole.get("choices").get(i).get("text").asText()).isEqualTo(solo.get(i).output().text());
        }
        List<JsonNode> chunks = Http.events(Http.post(fx.url("/v1/completions"), body + ", \"stream\": true}").body());
        StringBuilder[] streamed = {new StringBuilder(), new StringBuilder()};
        for (JsonNode c : chunks) {
            for (JsonNode ch : c.get("choices")) {
                streamed[ch.get("index").asInt()].append(ch.get("text").asText());
            }
        }
        assertThat(streamed[0].toString()).isEqualTo(solo.get(0).output().text());
        assertThat(streamed[1].toString()).isEqualTo(solo.get(1).output().text());
    }

    @Test
    void stopStringsAndPromptLogprobsReachTheEngine() {
        SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(20).stop(List.of(" was")).promptLogprobs(1).build();
        RequestResult direct = fx.llm.generate(List.of("Once upon a time"), params).get(0);
        JsonNode choice = Http.json(Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Once upon a time\", \"max_tokens\": 20, "
                + "\"temperature\": 0, \"stop\": \" was\", \"prompt_logprobs\": 1}").body()).get("choices").get(0);
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop").isEqualTo(direct.output().finishReason().openAiName());
        assertThat(choice.get("text").asText()).isEqualTo(direct.output().text()).doesNotContain(" was");
        JsonNode prompt = choice.get("prompt_logprobs");
        assertThat(prompt.size()).isEqualTo(direct.promptTokenIds().length);
        assertThat(prompt.get(0).isNull()).isTrue();
        assertThat(prompt.get(1).has(Integer.toString(direct.promptTokenIds()[1]))).isTrue();
    }

    @Test
    void aHungUpStreamIsAbortedAndItsBlocksFreed() throws Exception {
        long generatedBefore = fx.llm.engine().stats().generationTokens();
        String body = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 40, \"ignore_eos\": true, \"temperature\": 0, \"stream\": true}";
        // Held after the step of its third token until its abort is posted: however fast the engine, the request cannot
        // reach max_tokens before its client is seen gone.
        CountDownLatch aborted = new CountDownLatch(1);
        fx.llm.engine().setAbortHook(id -> aborted.countDown());
        try (StepGate gate = new StepGate(fx.llm.engine(), 3)) {
            assertThat(Http.streamThenHangUp(fx.server.port(), "/v1/completions", body, 3)).isEqualTo(3);
            gate.awaitHeld();
            Await.until(aborted, "the hung-up stream's request to be aborted");
        } finally {
            fx.llm.engine().setAbortHook(null);
        }
        fx.llm.engine().awaitIdle();
        var stats = fx.llm.engine().stats();
        assertThat(stats.finished()).containsKey(dev.pagoda.engine.FinishReason.ABORT);
        assertThat(stats.generationTokens() - generatedBefore).as("stopped at the held step").isEqualTo(3);
        assertThat(fx.llm.engine().kvUsage().blocksUsed()).isZero();
    }

    @Test
    void prometheusTextHasVllmNamesAndKvAccounting() {
        Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Hi\", \"max_tokens\": 4, \"stream\": true}");
        HttpResponse<String> r = Http.get(fx.url("/metrics"));
        assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain; version=0.0.4");
        String m = r.body();
        for (String name : List.of("pagoda:num_requests_running", "pagoda:num_requests_waiting", "pagoda:kv_cache_usage_perc",
                "pagoda:prompt_tokens_total", "pagoda:generation_tokens_total", "pagoda:num_preemptions_total",
                "pagoda:prefix_cache_queries_total", "pagoda:prefix_cache_hits_total", "pagoda:request_success_total",
                "pagoda:time_to_first_token_seconds", "pagoda:inter_token_latency_seconds",
                "pagoda:request_time_per_output_token_seconds", "pagoda:e2e_request_latency_seconds", "pagoda:request_queue_time_seconds",
                "pagoda:iteration_tokens_total", "pagoda:kv_cache_blocks",
                "pagoda:kv_cache_slots", "pagoda:kv_cache_waste_perc")) {
            assertThat(m).contains("# TYPE " + name + " ");
        }
        assertThat(m).containsPattern("pagoda:time_to_first_token_seconds_count\\{model_name=\"stories260K\"} [1-9]");
        assertThat(m).containsPattern("pagoda:inter_token_latency_seconds_bucket\\{model_name=\"stories260K\",le=\"\\+Inf\"} [1-9]");
        assertThat(m).containsPattern("pagoda:request_success_total\\{model_name=\"stories260K\",finished_reason=\"length\"} [1-9]");
        // Every sample line is NAME{labels} VALUE.
        for (String line : m.split("\n")) {
            if (!line.startsWith("#")) {
                assertThat(line).matches("pagoda:[a-z0-9_:]+\\{[^}]*} -?[0-9.E+-]+");
            }
        }
    }
}
