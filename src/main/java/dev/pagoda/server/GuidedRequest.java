package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pagoda.constraint.Constraint;
import dev.pagoda.constraint.ConstraintException;
import java.util.ArrayList;
import java.util.List;

/**
 * The guided-decoding fields of a completions or chat request: OpenAI's {@code response_format}
 * ({@code text}, {@code json_object}, {@code json_schema} with {@code {name, schema, strict}}) and vLLM's
 * {@code guided_json}, {@code guided_regex}, {@code guided_choice}, {@code guided_grammar}. At most one may
 * be given; a schema, regex or grammar that does not compile is a 400 naming the field and the fault.
 */
final class GuidedRequest {
    private GuidedRequest() {
    }

    /** The request's constraint, or null when it has none. */
    static Constraint parse(JsonNode body) {
        List<String> given = given(body);
        JsonNode rf = body.get("response_format");
        String type = responseFormatType(rf);
        if (given.size() > 1) {
            throw ApiException.badRequest("only one of " + String.join(", ", given) + " may be given", given.get(1));
        }
        if (given.isEmpty()) {
            return null;
        }
        String field = given.getFirst();
        try {
            return switch (field) {
                case "guided_json" -> Constraint.jsonSchema(schemaText(body.get(field), field));
                case "guided_regex" -> Constraint.regex(text(body.get(field), field));
                case "guided_grammar" -> Constraint.grammar(text(body.get(field), field));
                case "guided_choice" -> Constraint.choice(strings(body.get(field), field));
                default -> responseFormat(rf, type);
            };
        } catch (ConstraintException e) {
            throw ApiException.badRequest(field + ": " + e.getMessage(), field);
        }
    }

    /** The constraint fields given. */
    private static List<String> given(JsonNode body) {
        List<String> given = new ArrayList<>();
        for (String f : List.of("guided_json", "guided_regex", "guided_choice", "guided_grammar")) {
            if (present(body.get(f))) {
                given.add(f);
            }
        }
        String type = responseFormatType(body.get("response_format"));
        if (type != null && !type.equals("text")) {
            given.add("response_format");
        }
        return given;
    }

    /**
     * Guided decoding is not combined with beam search (the beams would need a constraint state each): a
     * request asking for both is refused naming the two, before the refusal of beam search itself.
     */
    static void refuseWithBeamSearch(JsonNode body) {
        if (!body.path("use_beam_search").asBoolean(false)) {
            return;
        }
        List<String> given = given(body);
        JsonNode tc = body.get("tool_choice");
        if (tc != null && (tc.isObject() || "required".equals(tc.asText()))) {
            given.add("tool_choice " + (tc.isObject() ? "with a named function" : "required"));
        }
        if (!given.isEmpty()) {
            throw ApiException.badRequest("guided decoding (" + given.getFirst() + ") cannot be combined with beam search "
                    + "(use_beam_search)", "use_beam_search");
        }
    }

    private static boolean present(JsonNode v) {
        return v != null && !v.isNull();
    }

    private static String responseFormatType(JsonNode rf) {
        if (!present(rf)) {
            return null;
        }
        if (!rf.isObject() || !rf.path("type").isTextual()) {
            throw ApiException.badRequest("response_format must be an object with a type (text, json_object or json_schema)",
                    "response_format");
        }
        return rf.get("type").textValue();
    }

    private static Constraint responseFormat(JsonNode rf, String type) {
        return switch (type) {
            case "json_object" -> Constraint.jsonObject();
            case "json_schema" -> {
                JsonNode js = rf.get("json_schema");
                if (js == null || !js.isObject() || !present(js.get("schema"))) {
                    throw ApiException.badRequest("response_format.json_schema must be an object with a schema "
                            + "({\"name\": ..., \"schema\": {...}, \"strict\": true})", "response_format");
                }
                yield Constraint.jsonSchema(schemaText(js.get("schema"), "response_format"));
            }
            default -> throw ApiException.badRequest("response_format.type must be text, json_object or json_schema, got '"
                    + type + "'", "response_format");
        };
    }

    /** A schema given as an object or as its JSON text. */
    static String schemaText(JsonNode v, String field) {
        if (v.isTextual()) {
            return v.textValue();
        }
        if (v.isObject() || v.isBoolean()) {
            return v.toString();
        }
        throw ApiException.badRequest(field + " must be a JSON schema object", field);
    }

    private static String text(JsonNode v, String field) {
        if (!v.isTextual()) {
            throw ApiException.badRequest(field + " must be a string", field);
        }
        return v.textValue();
    }

    private static List<String> strings(JsonNode v, String field) {
        if (!v.isArray() || v.isEmpty()) {
            throw ApiException.badRequest(field + " must be a non-empty array of strings", field);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : v) {
            if (!s.isTextual()) {
                throw ApiException.badRequest(field + " must be a non-empty array of strings", field);
            }
            out.add(s.textValue());
        }
        return out;
    }
}
