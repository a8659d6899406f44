package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pagoda.PagodaException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a model's free text into tool calls for {@code tool_choice: auto}, per model family
 * ({@code --tool-call-parser}): {@link #HERMES} reads {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}
 * blocks (Qwen2.5, Hermes), {@link #LLAMA3_JSON} a reply that is one JSON call
 * {@code {"name": ..., "parameters": {...}}} (or several joined by ';'), optionally after {@code <|python_tag|>}
 * (Llama 3.1+). Text that does not hold a well-formed call stays content.
 */
enum ToolCallParser {
    HERMES("hermes") {
        private static final Pattern BLOCK = Pattern.compile("<tool_call>\\s*(.*?)\\s*</tool_call>", Pattern.DOTALL);

        @Override
        ToolCalls parse(String text) {
            List<ToolCalls.Call> calls = new ArrayList<>();
            Matcher m = BLOCK.matcher(text);
            int first = -1;
            while (m.find()) {
                ToolCalls.Call c = ToolCalls.call(m.group(1), "arguments");
                if (c == null) {
                    return ToolCalls.none(text);
                }
                first = first < 0 ? m.start() : first;
                calls.add(c);
            }
            return calls.isEmpty() ? ToolCalls.none(text) : new ToolCalls(text.substring(0, first).strip(), calls);
        }
    },
    LLAMA3_JSON("llama3_json") {
        @Override
        ToolCalls parse(String text) {
            String t = text.strip();
            if (t.startsWith("<|python_tag|>")) {
                t = t.substring("<|python_tag|>".length()).strip();
            }
            if (!t.startsWith("{")) {
                return ToolCalls.none(text);
            }
            List<ToolCalls.Call> calls = new ArrayList<>();
            for (String part : t.split(";(?=\\s*\\{)")) {
                ToolCalls.Call c = ToolCalls.call(part, "parameters");
                if (c == null) {
                    c = ToolCalls.call(part, "arguments");
                }
                if (c == null) {
                    return ToolCalls.none(text);
                }
                calls.add(c);
            }
            return new ToolCalls("", calls);
        }
    };

    final String cliName;

    ToolCallParser(String cliName) {
        this.cliName = cliName;
    }

    abstract ToolCalls parse(String text);

    /** The parser named on the command line, or a PagodaException listing the known names. */
    static ToolCallParser named(String name) {
        for (ToolCallParser p : values()) {
            if (p.cliName.equals(name)) {
                return p;
            }
        }
        throw new PagodaException("--tool-call-parser '" + name + "' is not known (known: hermes, llama3_json)");
    }

    static boolean isCall(JsonNode n, String argumentsField) {
        return n != null && n.isObject() && n.path("name").isTextual() && (n.path(argumentsField).isObject() || n.path(argumentsField).isTextual());
    }
}
