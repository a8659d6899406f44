package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
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

    /** A call from {@code {"name": ..., argumentsField: {...}}}, or null when the text is not one. */
    static Call call(String json, String argumentsField) {
        JsonNode n;
        try {
            n = JsonFields.JSON.readTree(json);
        } catch (Exception e) {
            return null;
        }
        if (!ToolCallParser.isCall(n, argumentsField)) {
            return null;
        }
        JsonNode args = n.get(argumentsField);
        return new Call(newId(), n.get("name").textValue(), args.isTextual() ? args.textValue() : args.toString());
    }

    static String newId() {
        return "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    }
}
