package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.pagoda.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The response fields past the basics (issue 13, item 6): {@code system_fingerprint} on every object and chunk,
 * vLLM's {@code stop_reason} per choice, and {@code usage.prompt_tokens_details.cached_tokens} from the prefix cache.
 */
class ResponseShapesTest {
    private static ServerFixture fx;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        fx = ServerFixture.start();
        client = fx.openAiClient();
    }

    @AfterAll
    static void stop() {
        client.close();
        fx.close();
    }

    @Test
    void systemFingerprintOnResponsesAndChunks() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model(ServerFixture.MODEL).prompt("Hi").maxTokens(3).build());
        String fp = c.systemFingerprint().orElseThrow();
        assertThat(fp).matches("fp_[0-9a-f]{12}");
        ChatCompletionCreateParams chat = ChatCompletionCreateParams.builder().model(ServerFixture.MODEL).addUserMessage("Hi")
                .maxCompletionTokens(3).build();
        assertThat(client.chat().completions().create(chat).systemFingerprint()).contains(fp);
        List<String> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(chat)) {
            s.stream().forEach(chunk -> chunks.add(chunk.systemFingerprint().orElse("missing")));
        }
        assertThat(chunks).hasSizeGreaterThan(3).containsOnly(fp);
        List<JsonNode> events = Http.events(Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Hi\", \"max_tokens\": 3, \"stream\": true}").body());
        assertThat(events).allSatisfy(e -> assertThat(e.get("system_fingerprint").asText()).isEqualTo(fp));
    }

    @Test
    void stopReasonNamesTheStopStringOrTokenThatMatched() {
        JsonNode free = choice("{\"prompt\": \"Once upon a time\", \"max_tokens\": 12, \"temperature\": 0}");
        assertThat(free.get("finish_reason").asText()).isEqualTo("length");
        assertThat(free.get("stop_reason").isNull()).isTrue();
        String text = free.get("text").asText();
        String word = text.trim().split(" ")[1];

        JsonNode byString = choice("{\"prompt\": \"Once upon a time\", \"max_tokens\": 12, \"temperature\": 0, \"stop\": [\"zzz\", \"" + word + "\"]}");
        assertThat(byString.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(byString.get("stop_reason").asText()).isEqualTo(word);

        int third = fx.llm.generate(List.of("Once upon a time"), SamplingParams.greedy(12)).get(0).output().tokenIds()[2];
        JsonNode byToken = choice("{\"prompt\": \"Once upon a time\", \"max_tokens\": 12, \"temperature\": 0, \"stop_token_ids\": [" + third + "]}");
        assertThat(byToken.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(byToken.get("stop_reason").isIntegralNumber()).isTrue();
        assertThat(byToken.get("stop_reason").asInt()).isEqualTo(third);

        // Streamed: null until the last chunk of the choice, which names the stop (chat as completions).
        List<JsonNode> events = Http.events(Http.post(fx.url("/v1/chat/completions"), "{\"messages\": [{\"role\": \"user\", \"content\": "
                + "\"Once upon a time\"}], \"max_tokens\": 12, \"temperature\": 0, \"stream\": true, \"stop_token_ids\": [" + third + "]}").body());
        JsonNode last = events.getLast().get("choices").get(0);
        assertThat(events.subList(0, events.size() - 1)).allSatisfy(e -> assertThat(e.get("choices").get(0).get("stop_reason").isNull()).isTrue());
        if (last.get("finish_reason").asText().equals("stop")) {
            assertThat(last.get("stop_reason").asInt()).isEqualTo(third);
        } else {
            assertThat(last.get("stop_reason").isNull()).isTrue();
        }
        JsonNode chat = Http.json(Http.post(fx.url("/v1/chat/completions"), "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
                + "\"max_tokens\": 4}").body()).get("choices").get(0);
        assertThat(chat.has("stop_reason")).isTrue();
    }

    private static JsonNode choice(String body) {
        var r = Http.post(fx.url("/v1/completions"), body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.json(r.body()).get("choices").get(0);
    }

    @Test
    void cachedTokensCountThePromptServedByThePrefixCache() {
        String prompt = "Once upon a time there was a little girl named Lily who loved to play in the park with her big red ball every day.";
        CompletionCreateParams params = CompletionCreateParams.builder().model(ServerFixture.MODEL).prompt(prompt).maxTokens(2).build();
        Completion first = client.completions().create(params);
        long promptTokens = first.usage().orElseThrow().promptTokens();
        assertThat(promptTokens).isGreaterThan(32);
        Completion second = client.completions().create(params);
        long cached = second.usage().orElseThrow().promptTokensDetails().orElseThrow().cachedTokens().orElseThrow();
        int block = fx.llm.engine().config().blockSize();
        assertThat(cached).isPositive().isLessThan(promptTokens).isEqualTo((promptTokens - 1) / block * block);

        ChatCompletionCreateParams chat = ChatCompletionCreateParams.builder().model(ServerFixture.MODEL).addUserMessage(prompt)
                .maxCompletionTokens(2).build();
        client.chat().completions().create(chat);
        ChatCompletion again = client.chat().completions().create(chat);
        assertThat(again.usage().orElseThrow().promptTokensDetails().orElseThrow().cachedTokens().orElseThrow()).isPositive();
        // A prompt never seen has nothing cached, and says so.
        Completion fresh = client.completions().create(params.toBuilder().prompt("Tom had a blue kite that flew high above the trees.").build());
        assertThat(fresh.usage().orElseThrow().promptTokensDetails().orElseThrow().cachedTokens()).contains(0L);
    }
}
