package dev.pagoda.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.TestData;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Templates shaped like the Llama 3, Gemma, Qwen and Phi-3 families' (written for this test, in resources/templates),
 * exercising system-message handling, namespace, loop controls, raise_exception, strftime_now, tojson with and without
 * indent, tool lists, add_generation_prompt and BOS/EOS. The expected texts (templates/expected.json) were rendered by
 * the reference Jinja (jinja2 3.1.6) set up as Hugging Face's apply_chat_template sets it up, with strftime_now pinned
 * to 2026-12-02 13:45.
 */
class ChatTemplateFamiliesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Clock PINNED = Clock.fixed(LocalDateTime.of(2026, 12, 2, 13, 45).toInstant(ZoneOffset.UTC), ZoneOffset.UTC);

    static String resource(String name) throws IOException {
        try (InputStream in = ChatTemplateFamiliesTest.class.getResourceAsStream("/templates/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> a = new ArrayList<>();
        for (JsonNode c : JSON.readTree(resource("cases.json"))) {
            a.add(Arguments.of(c.get("name").asText(), c));
        }
        return a.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rendersAsTheReferenceJinja(String name, JsonNode c) throws IOException {
        String expected = JSON.readTree(resource("expected.json")).get(name).asText();
        ChatTemplate t = ChatTemplate.of(resource(c.get("template").asText() + ".jinja"), "<|begin_of_text|>", "<|end_of_text|>", PINNED);
        List<Map<String, Object>> messages = JSON.convertValue(c.get("messages"), new TypeReference<>() { });
        List<Object> tools = c.get("tools").isNull() ? null : JSON.convertValue(c.get("tools"), new TypeReference<>() { });
        boolean agp = c.get("add_generation_prompt").asBoolean();
        if (expected.startsWith("ERROR: ")) {
            assertThatThrownBy(() -> t.render(messages, agp, tools)).isInstanceOf(ApiException.class)
                    .hasMessageContaining(expected.substring("ERROR: ".length()));
        } else {
            assertThat(t.render(messages, agp, tools)).isEqualTo(expected);
        }
    }

    @Test
    void bosAndEosComeFromTheTokenizerConfig() {
        try (Model m = ModelLoader.open(TestData.path("models/synthetic/qwen3/hf"))) {
            ChatTemplate t = ChatTemplate.of(m);
            assertThat(t.render(List.of(Map.of("role", "user", "content", "Hi")), false))
                    .isEqualTo("user: Hi\n");
        }
        ChatTemplate t = ChatTemplate.of("{{ bos_token }}|{{ eos_token }}|{{ strftime_now('%A %d %B %Y %H:%M') }}", "<s>", "</s>", PINNED);
        assertThat(t.render(List.of(), false)).isEqualTo("<s>|</s>|Wednesday 02 December 2026 13:45");
        assertThat(PythonJson.dumps(Map.of("a", List.of(1, 2.0, "é\n")), -1)).isEqualTo("{\"a\": [1, 2.0, \"é\\n\"]}");
    }
}
