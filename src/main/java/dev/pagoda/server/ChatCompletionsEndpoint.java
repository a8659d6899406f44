package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.constraint.Constraint;
import dev.pagoda.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * POST /v1/chat/completions: the messages are rendered with the chat template, then generated as a completion.
 * Without max_tokens a reply may use the rest of the context (as vLLM does).
 */
final class ChatCompletionsEndpoint extends GenerationEndpoint {

    ChatCompletionsEndpoint(Serving serving) {
        super(serving);
    }

    @Override
    String idPrefix() {
        return "chatcmpl-";
    }

    @Override
    ResponseShape shape(String id, int choices) {
        return shape(id, choices, null);
    }

    @Override
    ResponseShape shape(String id, int choices, Prepared p) {
        ToolRequest tools = p == null ? null : p.tools();
        return new ChatShape(id, serving.config().servedModelName(), serving.systemFingerprint(), new LogprobsJson(serving.tokenizer()),
                tools != null && tools.parsesCalls(serving.toolCallParser()) ? tools : null, serving.toolCallParser(), choices);
    }

    @Override
    Prepared prepare(ObjectNode body) {
        unsupported(body, "functions", "use_beam_search");
        boolean[] flags = streamFlags(body);
        ToolRequest tools = ToolRequest.parse(body);
        int[] prompt = promptTokens(serving, body);
        SamplingRequest.Parsed parsed = SamplingRequest.parse(body, true);
        if (!parsed.maxTokensGiven()) {
            parsed.builder().maxTokens(Math.max(1, serving.engine().maxModelLen() - prompt.length));
        }
        Constraint forced = tools == null ? null : tools.constraint();
        if (forced != null) {
            if (GuidedRequest.parse(body) != null) {
                throw ApiException.badRequest("tool_choice required or a named function cannot be combined with response_format "
                        + "or guided decoding", "tool_choice");
            }
            parsed.builder().constraint(forced);
        }
        SamplingParams params = build(parsed.builder());
        serving.checkLength(prompt.length, params.maxTokens());
        return new Prepared(List.of(prompt), params, flags[0], flags[1], tools);
    }

    /** The rendered, tokenized conversation with its tools (also what /tokenize returns for messages). */
    static int[] promptTokens(Serving serving, ObjectNode body) {
        Boolean agp = JsonFields.optBool(body, "add_generation_prompt");
        ToolRequest tools = ToolRequest.parse(body);
        String text = serving.chatTemplate().render(messages(body.get("messages")), agp == null || agp,
                tools == null ? null : tools.templateTools());
        boolean own = serving.chatTemplate().rendersSpecialTokens();
        int[] tokens = serving.encode(text, !own, own, "messages");
        if (tokens.length == 0) {
            throw ApiException.badRequest("the rendered conversation has no tokens", "messages");
        }
        return tokens;
    }

    /** Messages as the template sees them: role and content (text parts joined), other string fields kept. */
    static List<Map<String, Object>> messages(JsonNode messages) {
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw ApiException.badRequest("messages must be a non-empty array of {role, content} objects", "messages");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) {
                throw ApiException.badRequest(where + " must be an object with role and content", "messages");
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()) {
                throw ApiException.badRequest(where + ".role must be a string", "messages");
            }
            Map<String, Object> msg = new HashMap<>();
            m.fields().forEachRemaining(e -> {
                if (e.getValue().isTextual()) {
                    msg.put(e.getKey(), e.getValue().textValue());
                }
            });
            JsonNode calls = m.get("tool_calls");
            if (calls != null && calls.isArray()) {
                msg.put("tool_calls", templateCalls(calls, where));
            }
            msg.put("content", content(m.get("content"), where));
            out.add(msg);
        }
        return out;
    }

    /**
     * An assistant turn's tool calls as templates read them: {@code function.arguments} becomes the object it
     * encodes (Hugging Face templates render it with tojson), a string if it is not JSON.
     */
    private static List<Object> templateCalls(JsonNode calls, String where) {
        List<Object> out = new ArrayList<>();
        for (JsonNode c : calls) {
            if (!c.isObject() || !c.path("function").path("name").isTextual()) {
                throw ApiException.badRequest(where + ".tool_calls must be [{\"id\", \"type\": \"function\", \"function\": "
                        + "{\"name\", \"arguments\"}}]", "messages");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> call = JsonFields.JSON.convertValue(c, Map.class);
            @SuppressWarnings("unchecked")
            Map<String, Object> function = (Map<String, Object>) call.get("function");
            if (function.get("arguments") instanceof String args) {
                try {
                    function.put("arguments", JsonFields.JSON.readValue(args, Map.class));
                } catch (Exception notJson) {
                    // Left as the string the client sent.
                }
            }
            out.add(call);
        }
        return out;
    }

    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.textValue();
        }
        if (!c.isArray()) {
            throw ApiException.badRequest(where + ".content must be a string or an array of text parts", "messages");
        }
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : c) {
            JsonNode type = part.get("type");
            JsonNode text = part.get("text");
            if (type == null || !"text".equals(type.asText()) || text == null || !text.isTextual()) {
                throw ApiException.badRequest(where + ".content parts must be {\"type\": \"text\", \"text\": ...}; "
                        + "this server takes text only", "messages");
            }
            if (!sb.isEmpty()) {
                sb.append('\n');
            }
            sb.append(text.textValue());
        }
        return sb.toString();
    }
}
