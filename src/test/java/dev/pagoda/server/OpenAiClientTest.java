package dev.pagoda.server;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The official OpenAI Java client against pagoda serve (stories260K on a loopback port). */
class OpenAiClientTest {
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

    private static CompletionCreateParams.Builder completion(String prompt, int maxTokens) {
        return CompletionCreateParams.builder().model(ServerFixture.MODEL).prompt(prompt).maxTokens(maxTokens).temperature(0.0);
    }

    @Test
    void greedyCompletionMatchesTheEngineAndItsStream() {
        Completion whole = client.completions().create(completion("Once upon a time", 24).build());
        CompletionChoice c = whole.choices().get(0);
        RequestResult direct = fx.llm.generate(List.of("Once upon a time"), SamplingParams.greedy(24)).get(0);
        assertThat(c.text()).isEqualTo(direct.output().text()).isNotBlank();
        assertThat(c.finishReason().asString()).isEqualTo(direct.output().finishReason().openAiName());
        assertThat(whole.model()).isEqualTo(ServerFixture.MODEL);
        assertThat(whole.usage().get().promptTokens()).isEqualTo(direct.promptTokenIds().length);
        assertThat(whole.usage().get().completionTokens()).isEqualTo(direct.output().tokenIds().length);

        StringBuilder streamed = new StringBuilder();
        List<String> finishes = new ArrayList<>();
        long usageTokens = -1;
        int chunks = 0;
        try (StreamResponse<Completion> s = client.completions().createStreaming(completion("Once upon a time", 24)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            for (Completion chunk : (Iterable<Completion>) s.stream()::iterator) {
                chunks++;
                for (CompletionChoice ch : chunk.choices()) {
                    streamed.append(ch.text());
                    ch._finishReason().asKnown().ifPresent(f -> finishes.add(f.asString()));
                }
                if (chunk.usage().isPresent()) {
                    usageTokens = chunk.usage().get().completionTokens();
                }
            }
        }
        assertThat(streamed.toString()).isEqualTo(c.text());
        assertThat(chunks).as("one chunk per token, plus usage").isGreaterThan(10);
        assertThat(finishes).containsExactly(c.finishReason().asString());
        assertThat(usageTokens).isEqualTo(direct.output().tokenIds().length);
    }

    @Test
    void greedyChatStreamedEqualsWhole() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(ServerFixture.MODEL)
                .addUserMessage("Tell me a story about a cat.").maxCompletionTokens(20).temperature(0.0).build();
        ChatCompletion whole = client.chat().completions().create(params);
        String text = whole.choices().get(0).message().content().orElseThrow();
        assertThat(text).isNotBlank();
        assertThat(whole.choices().get(0).message()._role().toString()).contains("assistant");
        assertThat(whole.usage().get().completionTokens()).isEqualTo(20);

        StringBuilder streamed = new StringBuilder();
        boolean sawRole = false;
        String finish = null;
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) s.stream()::iterator) {
                for (ChatCompletionChunk.Choice ch : chunk.choices()) {
                    sawRole |= ch.delta().role().isPresent();
                    ch.delta().content().ifPresent(streamed::append);
                    if (ch.finishReason().isPresent()) {
                        finish = ch.finishReason().get().asString();
                    }
                }
            }
        }
        assertThat(sawRole).isTrue();
        assertThat(streamed.toString()).isEqualTo(text);
        assertThat(finish).isEqualTo("length");
    }

    @Test
    void completionLogprobs() {
        Completion r = client.completions().create(completion("The little dog", 8).logprobs(3).build());
        CompletionChoice.Logprobs lp = r.choices().get(0).logprobs().orElseThrow();
        assertThat(lp.tokens().orElseThrow()).hasSize(8);
        assertThat(String.join("", lp.tokens().orElseThrow())).isEqualTo(r.choices().get(0).text());
        List<Double> chosen = lp.tokenLogprobs().orElseThrow();
        assertThat(chosen).allSatisfy(v -> assertThat(v).isLessThanOrEqualTo(0.0));
        // Greedy: the chosen token is the most likely, so its logprob is the top one.
        for (int i = 0; i < 8; i++) {
            Map<String, Double> top = new TreeMap<>();
            lp.topLogprobs().orElseThrow().get(i)._additionalProperties().forEach((k, v) -> top.put(k, ((Number) v.asNumber().orElseThrow()).doubleValue()));
            assertThat(top.size()).isBetween(3, 4);
            assertThat(top.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow()).isCloseTo(chosen.get(i), org.assertj.core.data.Offset.offset(1e-5));
        }
        assertThat(lp.textOffset().orElseThrow().get(0)).isZero();
    }

    @Test
    void chatLogprobsStreamed() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(ServerFixture.MODEL)
                .addUserMessage("Hi").maxCompletionTokens(6).temperature(0.0).logprobs(true).topLogprobs(2).build();
        ChatCompletion whole = client.chat().completions().create(params);
        var content = whole.choices().get(0).logprobs().orElseThrow().content().orElseThrow();
        assertThat(content).hasSize(6);
        assertThat(content).allSatisfy(t -> assertThat(t.topLogprobs()).hasSize(2));
        List<Double> streamed = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> ch.logprobs().flatMap(l -> l.content())
                    .ifPresent(l -> l.forEach(t -> streamed.add(t.logprob())))));
        }
        assertThat(streamed).containsExactlyElementsOf(content.stream().map(t -> t.logprob()).toList());
    }

    @Test
    void listsTheServedModel() {
        List<Model> models = client.models().list().data();
        assertThat(models).extracting(Model::id).containsExactly(ServerFixture.MODEL);
    }

    @Test
    void twoSeededCompletionsPerPrompt() {
        Completion r = client.completions().create(completion("Lily wanted to", 12).temperature(1.0).n(2).seed(7).build());
        assertThat(r.choices()).extracting(CompletionChoice::index).containsExactly(0L, 1L);
        StringBuilder[] streamed = {new StringBuilder(), new StringBuilder()};
        try (StreamResponse<Completion> s = client.completions().createStreaming(
                completion("Lily wanted to", 12).temperature(1.0).n(2).seed(7).build())) {
            s.stream().forEach(chunk -> chunk.choices().forEach(ch -> streamed[(int) ch.index()].append(ch.text())));
        }
        assertThat(streamed[0].toString()).isEqualTo(r.choices().get(0).text());
        assertThat(streamed[1].toString()).isEqualTo(r.choices().get(1).text());
    }
}
