package dev.pagoda.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagoda.PagodaException;
import java.util.List;
import java.util.Map;
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
        assertThat(ToolCallParser.LLAMA3_JSON.parse("Hello!").content()).isEqualTo("Hello!");
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
