package dev.pagoda.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.PagodaException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** tool_choice auto: the families' call formats become calls; anything else stays content. */
class ToolCallParserTest {
    @Test
    void hermesBlocksAfterSomeText() {
        ToolCalls t = ToolCallParser.HERMES.parse("Let me look.\n<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
                + "</tool_call>\n<tool_call>{\"name\": \"time\", \"arguments\": {}}</tool_call>");
        assertThat(t.content()).isEqualTo("Let me look.");
        assertThat(t.calls()).extracting(ToolCalls.Call::name).containsExactly("weather", "time");
        assertThat(t.calls().getFirst().arguments()).isEqualTo("{\"city\":\"Paris\"}");
        assertThat(t.calls().getFirst().id()).startsWith("call_").isNotEqualTo(t.calls().get(1).id());
        assertThat(ToolCallParser.HERMES.parse("no call here").calls()).isEmpty();
        assertThat(ToolCallParser.HERMES.parse("<tool_call>{broken</tool_call>").content()).isEqualTo("<tool_call>{broken</tool_call>");
    }

    @Test
    void llama3JsonCalls() {
        ToolCalls t = ToolCallParser.LLAMA3_JSON.parse("<|python_tag|>{\"name\": \"weather\", \"parameters\": {\"city\": \"Oslo\"}}; "
                + "{\"name\": \"time\", \"parameters\": {}}");
        assertThat(t.calls()).extracting(ToolCalls.Call::name).containsExactly("weather", "time");
        assertThat(t.calls().getFirst().arguments()).isEqualTo("{\"city\":\"Oslo\"}");
        assertThat(t.content()).isEmpty();
        assertThat(ToolCallParser.LLAMA3_JSON.parse("{\"not\": \"a call\"}").calls()).isEmpty();
        assertThat(ToolCallParser.LLAMA3_JSON.parse("{\"name\": \"f\", \"parameters\": 3}").calls()).isEmpty();
        assertThat(ToolCallParser.LLAMA3_JSON.parse("Hello!").content()).isEqualTo("Hello!");
    }

    /** What a stream sent, piece by piece: content, and per call its id, name and argument fragments. */
    private static final class Recorded implements ToolCallStream.Sink {
        final StringBuilder content = new StringBuilder();
        final List<String> names = new ArrayList<>();
        final List<List<String>> fragments = new ArrayList<>();

        @Override
        public void content(String text) {
            assertThat(names).as("content comes before the first call").isEmpty();
            content.append(text);
        }

        @Override
        public void call(int index, String id, String name) {
            assertThat(index).isEqualTo(names.size());
            assertThat(id).startsWith("call_");
            names.add(name);
            fragments.add(new ArrayList<>());
        }

        @Override
        public void arguments(int index, String fragment) {
            assertThat(fragment).isNotEmpty();
            fragments.get(index).add(fragment);
        }

        String arguments(int index) {
            return String.join("", fragments.get(index));
        }
    }

    /** Feeds the text in pieces of the given length and checks the stream adds up to the whole answer. */
    private static Recorded streamed(Function<ToolCallStream.Sink, ToolCallStream> format, String text, int piece) {
        Recorded r = new Recorded();
        ToolCallStream s = format.apply(r);
        for (int i = 0; i < text.length(); i += piece) {
            s.feed(text.substring(i, Math.min(text.length(), i + piece)));
        }
        s.finish();
        ToolCalls whole = ToolCallStream.whole(format, text);
        assertThat(r.content.toString()).as("content of %s in pieces of %d", text, piece).isEqualTo(whole.content());
        assertThat(r.names).isEqualTo(whole.calls().stream().map(ToolCalls.Call::name).toList());
        for (int k = 0; k < r.names.size(); k++) {
            assertThat(r.arguments(k)).isEqualTo(whole.calls().get(k).arguments());
        }
        return r;
    }

    @Test
    void callsStreamAsTheyAreWrittenAndAddUpToTheWholeAnswer() {
        String hermes = "Let me look.  \n<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Par is\", \"days\": [1, 2]}}\n"
                + "</tool_call>\n<tool_call>{\"arguments\": \"{}\", \"name\": \"time\"}</tool_call>";
        String llama = "<|python_tag|>{\"name\": \"weather\", \"parameters\": {\"city\": \"Oslo\\\"\"}}; {\"name\": \"time\", \"parameters\": {}}";
        for (int piece : new int[] {1, 2, 3, 7, 1000}) {
            Recorded h = streamed(ToolCallParser.HERMES::stream, hermes, piece);
            assertThat(h.content.toString()).isEqualTo("Let me look.");
            assertThat(h.names).containsExactly("weather", "time");
            assertThat(h.arguments(0)).isEqualTo("{\"city\":\"Par is\",\"days\":[1,2]}");
            assertThat(h.arguments(1)).isEqualTo("{}");
            Recorded l = streamed(ToolCallParser.LLAMA3_JSON::stream, llama, piece);
            assertThat(l.names).containsExactly("weather", "time");
            assertThat(l.arguments(0)).isEqualTo("{\"city\":\"Oslo\\\"\"}");
            if (piece < 5) {
                // The arguments arrive while they are written, not in one piece at the end.
                assertThat(h.fragments.getFirst()).hasSizeGreaterThan(1);
                assertThat(l.fragments.getFirst()).hasSizeGreaterThan(1);
            }
            // No call: everything is content, including what looked like the start of a tag.
            for (String text : List.of("no call <tool_ here", "  <tool_call>{broken</tool_call> ", "<tool_call>{\"name\": \"cut", "a < b\n")) {
                assertThat(streamed(ToolCallParser.HERMES::stream, text, piece).content.toString()).isEqualTo(text);
            }
            for (String text : List.of(" Hello!", "{\"not\": \"a call\"}", "<|py", "{\"parameters\": 3, \"name\": \"f\"}")) {
                assertThat(streamed(ToolCallParser.LLAMA3_JSON::stream, text, piece).content.toString()).isEqualTo(text);
            }
        }
    }

    @Test
    void requiredAndNamedCallsStream() {
        var body = Http.json("""
                {"tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}},
                           {"type": "function", "function": {"name": "time"}}], "tool_choice": "required"}""");
        ToolRequest required = ToolRequest.parse(body);
        String text = "[{\"name\": \"weather\", \"arguments\": {\"city\": \"Rome\"}}, {\"name\": \"time\", \"arguments\": {}}]";
        for (int piece : new int[] {1, 4, 1000}) {
            Recorded r = streamed(sink -> required.stream(sink, null), text, piece);
            assertThat(r.names).containsExactly("weather", "time");
            assertThat(r.arguments(0)).isEqualTo("{\"city\":\"Rome\"}");
            assertThat(r.content.toString()).isEmpty();
        }
        // Cut short: the whole answer is the text; the stream had already named the call.
        assertThat(required.calls("[{\"name\": \"weather\", \"argu", null).calls()).isEmpty();

        ((ObjectNode) body).set("tool_choice", Http.json("{\"type\": \"function\", \"function\": {\"name\": \"weather\"}}"));
        ToolRequest named = ToolRequest.parse(body);
        Recorded r = streamed(sink -> named.stream(sink, null), "{\"city\": \"Rome\"}", 3);
        assertThat(r.names).containsExactly("weather");
        assertThat(r.arguments(0)).isEqualTo("{\"city\": \"Rome\"}");
        assertThat(r.fragments.getFirst()).hasSize(6);
    }

    @Test
    void unknownParserIsRefusedByName() {
        assertThatThrownBy(() -> ToolCallParser.named("mistral")).isInstanceOf(PagodaException.class).hasMessageContaining("'mistral'");
        assertThat(ServerConfig.loopback("m").toBuilder().toolCallParser("hermes").build().toolCallParser()).isEqualTo("hermes");
    }

    @Test
    void toolsAndToolResultsReachTheTemplate() {
        ChatTemplate t = ChatTemplate.of("{% for t in tools %}[{{ t.function.name }}]{% endfor %}{% for m in messages %}"
                + "{{ m.role }}:{{ m.content }}{% for c in m.tool_calls %}<{{ c.function.name }} {{ c.function.arguments.city }}>{% endfor %}"
                + "{% if m.tool_call_id %}#{{ m.tool_call_id }}{% endif %}\n{% endfor %}", "", "");
        var body = Http.json("""
                {"messages": [{"role": "user", "content": "Weather?"},
                  {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]},
                  {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}],
                 "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]}""");
        ToolRequest tools = ToolRequest.parse(body);
        List<Map<String, Object>> messages = ChatCompletionsEndpoint.messages(body.get("messages"));
        assertThat(t.render(messages, false, tools.templateTools()))
                .isEqualTo("[weather]user:Weather?assistant:<weather Paris>tool:sunny#call_1");  // trim_blocks eats the newlines
    }
}
