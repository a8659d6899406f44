package dev.pagoda.server;

import java.util.List;
import java.util.UUID;

/**
 * The tool calls found in one reply, and the text around them that stays content (empty for none).
 *
 * @param calls each with its function name and arguments as a JSON text
 */
record ToolCalls(String content, List<Call> calls) {
    record Call(String id, String name, String arguments) {
    }

    static ToolCalls none(String text) {
        return new ToolCalls(text, List.of());
    }

    static String newId() {
        return "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }
}
