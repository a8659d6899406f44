package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.pagoda.constraint.Constraint;
import dev.pagoda.constraint.ConstraintException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A chat request's {@code tools}, {@code tool_choice} and {@code parallel_tool_calls}. With {@code required}
 * the reply is constrained to a JSON array of calls {@code [{"name": ..., "arguments": {...}}]} of declared
 * functions (one call when parallel calls are off), each call's arguments valid against its parameters
 * schema; with a named function, to that function's arguments. With {@code auto} the model writes freely and
 * the server's {@link ToolCallParser} finds calls in the text; with {@code none} tools only reach the template.
 */
final class ToolRequest {
    enum Choice { NONE, AUTO, REQUIRED, NAMED }

    /** The function objects ({@code name}, {@code description}, {@code parameters}) by name, in order. */
    private final Map<String, ObjectNode> functions;
    private final Choice choice;
    private final String named;
    private final boolean parallel;

    private ToolRequest(Map<String, ObjectNode> functions, Choice choice, String named, boolean parallel) {
        this.functions = functions;
        this.choice = choice;
        this.named = named;
        this.parallel = parallel;
    }

    /** The request's tools, or null when it declares none (then tool_choice must be absent or none). */
    static ToolRequest parse(JsonNode body) {
        JsonNode tools = body.get("tools");
        JsonNode tc = body.get("tool_choice");
        if (tools == null || tools.isNull() || (tools.isArray() && tools.isEmpty())) {
            if (tc != null && !tc.isNull() && !(tc.isTextual() && tc.textValue().equals("none"))) {
                throw ApiException.badRequest("tool_choice needs tools", "tool_choice");
            }
            return null;
        }
        if (!tools.isArray()) {
            throw ApiException.badRequest("tools must be an array of {\"type\": \"function\", \"function\": {...}}", "tools");
        }
        Map<String, ObjectNode> functions = new LinkedHashMap<>();
        for (int i = 0; i < tools.size(); i++) {
            JsonNode t = tools.get(i);
            JsonNode f = t.get("function");
            if (!t.isObject() || !"function".equals(t.path("type").asText()) || f == null || !f.isObject() || !f.path("name").isTextual()) {
                throw ApiException.badRequest("tools[" + i + "] must be {\"type\": \"function\", \"function\": {\"name\": ..., "
                        + "\"parameters\": {...}}}", "tools");
            }
            JsonNode params = f.get("parameters");
            if (params != null && !params.isNull() && !params.isObject()) {
                throw ApiException.badRequest("tools[" + i + "].function.parameters must be a JSON schema object", "tools");
            }
            if (functions.put(f.get("name").textValue(), (ObjectNode) f) != null) {
                throw ApiException.badRequest("tools[" + i + "]: the function name '" + f.get("name").textValue() + "' is declared twice", "tools");
            }
        }
        Choice choice = Choice.AUTO;
        String named = null;
        if (tc != null && !tc.isNull()) {
            if (tc.isTextual()) {
                choice = switch (tc.textValue()) {
                    case "none" -> Choice.NONE;
                    case "auto" -> Choice.AUTO;
                    case "required" -> Choice.REQUIRED;
                    default -> throw ApiException.badRequest("tool_choice must be none, auto, required or "
                            + "{\"type\": \"function\", \"function\": {\"name\": ...}}, got '" + tc.textValue() + "'", "tool_choice");
                };
            } else if (tc.isObject() && tc.path("function").path("name").isTextual()) {
                choice = Choice.NAMED;
                named = tc.path("function").path("name").textValue();
                if (!functions.containsKey(named)) {
                    throw ApiException.badRequest("tool_choice names the function '" + named + "', which tools do not declare", "tool_choice");
                }
            } else {
                throw ApiException.badRequest("tool_choice must be none, auto, required or "
                        + "{\"type\": \"function\", \"function\": {\"name\": ...}}", "tool_choice");
            }
        }
        Boolean parallel = JsonFields.optBool(body, "parallel_tool_calls");
        return new ToolRequest(functions, choice, named, parallel == null || parallel);
    }

    Choice choice() {
        return choice;
    }

    /** Whether the reply's text is turned into tool calls (forced, or auto with a parser). */
    boolean parsesCalls(ToolCallParser parser) {
        return choice == Choice.REQUIRED || choice == Choice.NAMED || (choice == Choice.AUTO && parser != null);
    }

    /** The tools as a chat template sees them ({@code [{type: function, function: {...}}]}). */
    List<Map<String, Object>> templateTools() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (ObjectNode f : functions.values()) {
            Map<String, Object> tool = new LinkedHashMap<>();
            tool.put("type", "function");
            tool.put("function", JsonFields.JSON.convertValue(f, Map.class));
            out.add(tool);
        }
        return out;
    }

    /** The decoding constraint of required and named choices; null otherwise. */
    Constraint constraint() {
        try {
            return switch (choice) {
                case NAMED -> Constraint.jsonSchema(parameters(functions.get(named)).toString());
                case REQUIRED -> Constraint.jsonSchema(callsSchema().toString());
                default -> null;
            };
        } catch (ConstraintException e) {
            throw ApiException.badRequest("tools: " + e.getMessage(), "tools");
        }
    }

    private static ObjectNode parameters(ObjectNode function) {
        JsonNode p = function.get("parameters");
        return p == null || p.isNull() ? JsonFields.JSON.createObjectNode().put("type", "object") : (ObjectNode) p;
    }

    /**
     * {@code [{"name": const, "arguments": parameters}, ...]}: an anyOf over the functions. Each function's own
     * {@code $defs} move to the root under a prefix of their own, and its {@code $ref}s follow them.
     */
    private ObjectNode callsSchema() {
        ObjectNode root = JsonFields.JSON.createObjectNode();
        ObjectNode defs = JsonFields.JSON.createObjectNode();
        ArrayNode anyOf = JsonFields.JSON.createArrayNode();
        int i = 0;
        for (Map.Entry<String, ObjectNode> e : functions.entrySet()) {
            String prefix = "f" + i++ + "_";
            ObjectNode params = parameters(e.getValue()).deepCopy();
            for (String key : List.of("$defs", "definitions")) {
                JsonNode own = params.remove(key);
                if (own != null && own.isObject()) {
                    own.fields().forEachRemaining(d -> defs.set(prefix + d.getKey(), d.getValue()));
                }
            }
            defs.set(prefix + "self", params);
            ObjectNode call = JsonFields.JSON.createObjectNode().put("type", "object");
            ObjectNode props = call.putObject("properties");
            props.putObject("name").put("const", e.getKey());
            props.putObject("arguments").put("$ref", "#/$defs/" + prefix + "self");
            call.putArray("required").add("name").add("arguments");
            call.put("additionalProperties", false);
            anyOf.add(call);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = defs.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> d = it.next();
            rewriteRefs(d.getValue(), d.getKey().substring(0, d.getKey().indexOf('_') + 1));
        }
        root.put("type", "array");
        root.putObject("items").set("anyOf", anyOf);
        root.put("minItems", 1);
        if (!parallel) {
            root.put("maxItems", 1);
        }
        root.set("$defs", defs);
        return root;
    }

    private static void rewriteRefs(JsonNode n, String prefix) {
        if (n.isObject()) {
            ObjectNode o = (ObjectNode) n;
            JsonNode ref = o.get("$ref");
            if (ref != null && ref.isTextual()) {
                String r = ref.textValue();
                String target = r.equals("#") ? "self" : r.startsWith("#/$defs/") ? r.substring(8)
                        : r.startsWith("#/definitions/") ? r.substring(14) : null;
                if (target != null) {
                    o.set("$ref", TextNode.valueOf("#/$defs/" + prefix + target));
                }
            }
            o.properties().forEach(e -> rewriteRefs(e.getValue(), prefix));
        } else if (n.isArray()) {
            n.forEach(c -> rewriteRefs(c, prefix));
        }
    }

    /** The calls in a whole reply's text (see {@link #parsesCalls}); none when it holds none. */
    ToolCalls calls(String text, ToolCallParser parser) {
        return parsesCalls(parser) ? ToolCallStream.whole(sink -> stream(sink, parser), text) : ToolCalls.none(text);
    }

    /** A reader of one reply's calls as its text arrives (only when {@link #parsesCalls}). */
    ToolCallStream stream(ToolCallStream.Sink sink, ToolCallParser parser) {
        return switch (choice) {
            case NAMED -> new ToolCallStream.Named(sink, named);
            case REQUIRED -> new ToolCallStream.Required(sink);
            case AUTO, NONE -> parser.stream(sink);
        };
    }
}
