package dev.pagoda.server;

import dev.pagoda.PagodaException;

/**
 * Turns a model's free text into tool calls for {@code tool_choice: auto}, per model family
 * ({@code --tool-call-parser}): {@link #HERMES} reads {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}
 * blocks (Qwen2.5, Hermes), {@link #LLAMA3_JSON} a reply that is one JSON call
 * {@code {"name": ..., "parameters": {...}}} (or several joined by ';'), optionally after {@code <|python_tag|>}
 * (Llama 3.1+). Text that does not hold a well-formed call stays content. Both read the text as it streams
 * ({@link ToolCallStream}).
 */
enum ToolCallParser {
    HERMES("hermes") {
        @Override
        ToolCallStream stream(ToolCallStream.Sink sink) {
            return new ToolCallStream.Hermes(sink);
        }
    },
    LLAMA3_JSON("llama3_json") {
        @Override
        ToolCallStream stream(ToolCallStream.Sink sink) {
            return new ToolCallStream.Llama3Json(sink);
        }
    };

    final String cliName;

    ToolCallParser(String cliName) {
        this.cliName = cliName;
    }

    /** A reader of one reply's text as it arrives. */
    abstract ToolCallStream stream(ToolCallStream.Sink sink);

    /** The calls in a whole reply. */
    ToolCalls parse(String text) {
        return ToolCallStream.whole(this::stream, text);
    }

    /** The parser named on the command line, or a PagodaException listing the known names. */
    static ToolCallParser named(String name) {
        for (ToolCallParser p : values()) {
            if (p.cliName.equals(name)) {
                return p;
            }
        }
        throw new PagodaException("--tool-call-parser '" + name + "' is not known (known: hermes, llama3_json)");
    }
}
