package dev.pagoda.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.chat.completions.StructuredChatCompletion;
import com.openai.models.chat.completions.StructuredChatCompletionCreateParams;
import dev.pagoda.constraint.TestSchemas;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * response_format, the vLLM guided_* extras and tool calling over HTTP and through the official OpenAI client
 * (its typed structured-output helper and a required tool call round trip, streamed and not).
 */
class StructuredOutputsTest {
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

    private static HttpResponse<String> post(String path, String body) {
        return Http.post(fx.url(path), body);
    }

    private static JsonNode ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.json(r.body());
    }

    private static void badRequest(String path, String body, String param, String says) {
        HttpResponse<String> r = post(path, body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode e = Http.json(r.body()).get("error");
        assertThat(e.get("param").asText()).isEqualTo(param);
        assertThat(e.get("message").asText()).contains(says);
    }

    @Test
    void guidedExtrasAndResponseFormatsOnBothEndpoints() {
        JsonNode choice = ok(post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 20, \"n\": 4, \"seed\": 1, "
                + "\"guided_choice\": [\"cat\", \"dog\"]}"));
        for (JsonNode c : choice.get("choices")) {
            assertThat(c.get("text").asText()).isIn("cat", "dog");
            assertThat(c.get("finish_reason").asText()).isEqualTo("stop");
        }
        JsonNode regex = ok(post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 20, \"seed\": 2, "
                + "\"guided_regex\": \"[0-9]{3}-[a-z]{2}\"}"));
        assertThat(regex.get("choices").get(0).get("text").asText()).matches("[0-9]{3}-[a-z]{2}");
        JsonNode grammar = ok(post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 20, \"seed\": 2, "
                + "\"guided_grammar\": \"root ::= (\\\"a\\\" | \\\"b\\\")+ \\\".\\\"\", \"stop\": [\"zzz\"]}"));
        assertThat(grammar.get("choices").get(0).get("text").asText()).matches("[ab]+\\.");

        String schema = TestSchemas.ALL.get("person");
        JsonNode chat = ok(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Who?\"}], \"seed\": 3, "
                + "\"max_tokens\": 100, \"temperature\": 1, \"response_format\": {\"type\": \"json_schema\", \"json_schema\": "
                + "{\"name\": \"person\", \"strict\": true, \"schema\": " + schema + "}}}"));
        String content = chat.get("choices").get(0).get("message").get("content").asText();
        assertThat(TestSchemas.validate(schema, content)).as(content).isEmpty();
        JsonNode guidedJson = ok(post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 100, \"seed\": 4, \"guided_json\": "
                + schema + "}"));
        assertThat(TestSchemas.validate(schema, guidedJson.get("choices").get(0).get("text").asText())).isEmpty();
        // Free-form JSON has unbounded strings: a reply that ran out of tokens ends with length, any other parses.
        JsonNode object = ok(post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
                + "\"max_tokens\": 200, \"n\": 4, \"seed\": 6, \"response_format\": {\"type\": \"json_object\"}}"));
        int parsed = 0;
        for (JsonNode c : object.get("choices")) {
            if (c.get("finish_reason").asText().equals("stop")) {
                Http.json(c.get("message").get("content").asText());
                parsed++;
            } else {
                assertThat(c.get("finish_reason").asText()).isEqualTo("length");
            }
        }
        assertThat(parsed).isPositive();

        // Streamed: the deltas add up to a valid value.
        List<JsonNode> events = Http.events(post("/v1/completions", "{\"prompt\": \"Once\", \"max_tokens\": 100, \"seed\": 5, "
                + "\"stream\": true, \"guided_json\": " + schema + "}").body());
        assertThat(TestSchemas.validate(schema, Http.text(events))).isEmpty();
    }

    @Test
    void badConstraintsAreRefusedNamingTheFault() {
        String chat = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], ";
        badRequest("/v1/chat/completions", chat + "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": "
                + "{\"name\": \"x\", \"schema\": {\"type\": \"strin\"}}}}", "response_format", "unknown type 'strin'");
        badRequest("/v1/chat/completions", chat + "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": "
                + "{\"name\": \"x\", \"schema\": {\"type\": \"object\", \"patternProperties\": {}}}}}", "response_format", "'patternProperties'");
        badRequest("/v1/chat/completions", chat + "\"response_format\": {\"type\": \"yaml\"}}", "response_format", "json_schema");
        badRequest("/v1/completions", "{\"prompt\": \"a\", \"guided_regex\": \"a(b\"}", "guided_regex", "missing ')'");
        badRequest("/v1/completions", "{\"prompt\": \"a\", \"guided_grammar\": \"root ::= x\"}", "guided_grammar", "undefined rule 'x'");
        badRequest("/v1/completions", "{\"prompt\": \"a\", \"guided_choice\": []}", "guided_choice", "non-empty");
        badRequest("/v1/completions", "{\"prompt\": \"a\", \"guided_choice\": [\"a\"], \"guided_regex\": \"a\"}", "guided_choice", "only one of");
        badRequest("/v1/chat/completions", chat + "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], "
                + "\"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"g\"}}}", "tool_choice", "'g'");
        badRequest("/v1/chat/completions", chat + "\"tool_choice\": \"required\"}", "tool_choice", "needs tools");
        // Beam search keeps no constraint per beam: the combination is refused by name.
        badRequest("/v1/completions", "{\"prompt\": \"a\", \"guided_regex\": \"a\", \"use_beam_search\": true}", "use_beam_search",
                "guided decoding (guided_regex) cannot be combined with beam search");
        badRequest("/v1/chat/completions", chat + "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], "
                + "\"tool_choice\": \"required\", \"use_beam_search\": true}", "use_beam_search", "tool_choice required");
    }

    /** The typed helper's class: every field bounded, so even a random model completes it. */
    public static class Forecast {
        public Sky sky;
        public boolean windy;
        public int celsius;
    }

    public enum Sky { SUNNY, CLOUDY, RAINY }

    @Test
    void openAiTypedResponseFormatReturnsAnInstance() {
        StructuredChatCompletionCreateParams<Forecast> params = ChatCompletionCreateParams.builder().model(ServerFixture.MODEL)
                .addUserMessage("The weather?").maxCompletionTokens(60).temperature(1.0).seed(11).responseFormat(Forecast.class).build();
        StructuredChatCompletion<Forecast> r = client.chat().completions().create(params);
        Forecast f = r.choices().getFirst().message().content().orElseThrow();
        assertThat(f.sky).isNotNull();
    }

    /** A tool's parameters, as the SDK derives their schema. */
    public static class GetWeather {
        public Sky wanted;
        public int days;
    }

    @Test
    void openAiToolCallRoundTripStreamedAndNot() {
        ChatCompletionCreateParams first = ChatCompletionCreateParams.builder().model(ServerFixture.MODEL)
                .addUserMessage("Will it rain?").addTool(GetWeather.class).toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED)
                .parallelToolCalls(false).maxCompletionTokens(80).temperature(1.0).seed(5).build();
        ChatCompletion r = client.chat().completions().create(first);
        assertThat(r.choices().getFirst().finishReason().asString()).isEqualTo("tool_calls");
        ChatCompletionMessageFunctionToolCall call = r.choices().getFirst().message().toolCalls().orElseThrow().getFirst().asFunction();
        assertThat(call.function().name()).isEqualTo("GetWeather");
        GetWeather args = call.function().arguments(GetWeather.class);
        assertThat(args.wanted).isNotNull();

        ChatCompletionCreateParams second = first.toBuilder().toolChoice(ChatCompletionToolChoiceOption.Auto.AUTO)
                .addMessage(r.choices().getFirst().message())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("rain all week").build())
                .maxCompletionTokens(12).build();
        ChatCompletion answer = client.chat().completions().create(second);
        assertThat(answer.choices().getFirst().message().content()).isPresent();
        assertThat(answer.choices().getFirst().message().toolCalls().orElse(List.of())).isEmpty();

        // Streamed: the calls arrive as delta.tool_calls (id, name, then the arguments), finishing with tool_calls.
        Map<Long, StringBuilder> arguments = new HashMap<>();
        Map<Long, String> names = new HashMap<>();
        String finish = null;
        ChatCompletionAccumulator accumulated = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(first)) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) s.stream()::iterator) {
                accumulated.accumulate(chunk);
                for (ChatCompletionChunk.Choice ch : chunk.choices()) {
                    for (ChatCompletionChunk.Choice.Delta.ToolCall tc : ch.delta().toolCalls().orElse(List.of())) {
                        tc.function().flatMap(ChatCompletionChunk.Choice.Delta.ToolCall.Function::name).ifPresent(n -> names.put(tc.index(), n));
                        tc.function().flatMap(ChatCompletionChunk.Choice.Delta.ToolCall.Function::arguments)
                                .ifPresent(a -> arguments.computeIfAbsent(tc.index(), k -> new StringBuilder()).append(a));
                    }
                    if (ch.finishReason().isPresent()) {
                        finish = ch.finishReason().get().asString();
                    }
                }
            }
        }
        assertThat(finish).isEqualTo("tool_calls");
        assertThat(names).containsOnlyKeys(0L).containsValue("GetWeather");
        assertThat(arguments.get(0L).toString()).isEqualTo(call.function().arguments());
        // The SDK's accumulator makes the same message of the chunks as the whole answer (less the call's id).
        ChatCompletion.Choice whole = accumulated.chatCompletion().choices().getFirst();
        assertThat(whole.finishReason().asString()).isEqualTo("tool_calls");
        ChatCompletionMessageFunctionToolCall streamedCall = whole.message().toolCalls().orElseThrow().getFirst().asFunction();
        assertThat(streamedCall.id()).startsWith("call_");
        assertThat(streamedCall.function().name()).isEqualTo("GetWeather");
        assertThat(streamedCall.function().arguments()).isEqualTo(call.function().arguments());
    }

    @Test
    void toolCallArgumentsStreamInPieces() {
        String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Weather?\"}], \"stream\": true, \"seed\": 7, "
                + "\"temperature\": 1, \"max_tokens\": 150, \"parallel_tool_calls\": false, \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"weather\", "
                + "\"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"enum\": [\"Paris\", \"Oslo\"]}, "
                + "\"days\": {\"enum\": [1, 2, 3]}}, \"required\": [\"city\", \"days\"], \"additionalProperties\": false}}}], "
                + "\"tool_choice\": ";
        for (String choice : List.of("\"required\"", "{\"type\": \"function\", \"function\": {\"name\": \"weather\"}}")) {
            HttpResponse<String> r = post("/v1/chat/completions", body + choice + "}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            List<JsonNode> calls = new ArrayList<>();
            String finish = null;
            for (JsonNode e : Http.events(r.body())) {
                JsonNode c = e.get("choices").get(0);
                if (c.path("delta").has("tool_calls")) {
                    calls.add(c.get("delta").get("tool_calls").get(0));
                }
                if (!c.path("finish_reason").isNull()) {
                    finish = c.get("finish_reason").asText();
                }
            }
            JsonNode opening = calls.getFirst();
            assertThat(opening.get("index").asInt()).isZero();
            assertThat(opening.get("id").asText()).startsWith("call_");
            assertThat(opening.get("type").asText()).isEqualTo("function");
            assertThat(opening.get("function").get("name").asText()).isEqualTo("weather");
            assertThat(opening.get("function").get("arguments").asText()).isEmpty();
            List<String> fragments = calls.subList(1, calls.size()).stream().map(c -> c.get("function").get("arguments").asText()).toList();
            assertThat(fragments).as("the arguments arrive token by token").hasSizeGreaterThan(1);
            JsonNode args = Http.json(String.join("", fragments));
            assertThat(args.get("city").asText()).isIn("Paris", "Oslo");
            assertThat(args.get("days").isInt()).isTrue();
            assertThat(finish).isEqualTo("tool_calls");
        }
    }
}
