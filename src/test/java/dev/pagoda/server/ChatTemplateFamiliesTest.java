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
 * Templates shaped like the Llama 3, Gemma, Qwen, Qwen3 and Phi-3 families' (written for this test, in resources/templates),
 * exercising system-message handling, Python string methods and slices (Qwen3's), chat_template_kwargs, namespace, loop controls, raise_exception, strftime_now, tojson with and without
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
        Map<String, Object> kwargs = c.has("chat_template_kwargs") ? JSON.convertValue(c.get("chat_template_kwargs"), new TypeReference<>() { })
                : Map.of();
        if (expected.startsWith("ERROR: ")) {
            assertThatThrownBy(() -> t.render(messages, agp, tools, kwargs)).isInstanceOf(ApiException.class)
                    .hasMessageContaining(expected.substring("ERROR: ".length()));
        } else {
            assertThat(t.render(messages, agp, tools, kwargs)).isEqualTo(expected);
        }
    }

    @Test
    void pythonStringMethodsAsPythonHasThem() {
        // The expected text is jinja2 3.1.6's rendering of the same template.
        ChatTemplate t = ChatTemplate.of("{{ ' a  b c '.split() | join('/') }}|{{ ' a  b c '.split(none, 1) | join('/') }}|"
                + "{{ 'a,b,,c'.split(',') | join('/') }}|{{ 'a,b,,c'.split(',', 2) | join('/') }}|{{ ' a  b c '.rsplit(none, 1) | join('/') }}|"
                + "{{ 'a,b,,c'.rsplit(',', 1) | join('/') }}|{{ 'xxaxx'.strip('x') }}|{{ '\\n a \\n'.lstrip() }}|{{ 'ab'.rstrip('ba') }}|"
                + "{{ 'y' if 'ab'.startswith(('x', 'a')) else 'n' }}|{{ 'y' if 'ab'.endswith('a') else 'n' }}|{{ 'they\\'re bill'.title() }}|"
                + "{{ 'hELLO'.capitalize() }}|{{ 'abc'.find('c') }}|{{ 'aXbX'.replace('X', '-').upper() }}|{{ [1, 2, 3][::-1] | join(',') }}|"
                + "{{ namespace(n=[1, 2] | length * 2).n }}", "", "");
        assertThat(t.render(List.of(), false)).isEqualTo("a/b/c|a/b c |a/b//c|a/b/,c| a  b/c|a,b,/c|a|a \n||y|n|They'Re Bill|Hello|2|A-B-|3,2,1|4");
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
