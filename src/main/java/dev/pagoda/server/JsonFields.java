package dev.pagoda.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/** Reading request JSON with OpenAI's error for every wrong type: a 400 naming the field. */
final class JsonFields {
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private JsonFields() {
    }

    static String write(JsonNode n) {
        try {
            return JSON.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode present(JsonNode body, String name) {
        JsonNode v = body.get(name);
        return v == null || v.isNull() ? null : v;
    }

    static Integer optInt(JsonNode body, String name) {
        JsonNode v = present(body, name);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw ApiException.badRequest(name + " must be an integer, got " + v, name);
        }
        return v.intValue();
    }

    static Long optLong(JsonNode body, String name) {
        JsonNode v = present(body, name);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.badRequest(name + " must be an integer, got " + v, name);
        }
        return v.longValue();
    }

    static Float optFloat(JsonNode body, String name) {
        JsonNode v = present(body, name);
        if (v == null) {
            return null;
        }
        if (!v.isNumber()) {
            throw ApiException.badRequest(name + " must be a number, got " + v, name);
        }
        return v.floatValue();
    }

    static Boolean optBool(JsonNode body, String name) {
        JsonNode v = present(body, name);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw ApiException.badRequest(name + " must be true or false, got " + v, name);
        }
        return v.booleanValue();
    }

    static String optString(JsonNode body, String name) {
        JsonNode v = present(body, name);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest(name + " must be a string, got " + v, name);
        }
        return v.textValue();
    }

    /** A string or an array of strings (OpenAI's {@code stop}). */
    static List<String> optStrings(JsonNode body, String name) {
        JsonNode v = present(body, name);
        if (v == null) {
            return null;
        }
        if (v.isTextual()) {
            return List.of(v.textValue());
        }
        if (!v.isArray()) {
            throw ApiException.badRequest(name + " must be a string or an array of strings", name);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw ApiException.badRequest(name + " must be a string or an array of strings", name);
            }
            out.add(e.textValue());
        }
        return out;
    }

    static int[] optInts(JsonNode body, String name) {
        JsonNode v = present(body, name);
        if (v == null) {
            return null;
        }
        return ints(v, name);
    }

    /** An array of integers that fit an int. */
    static int[] ints(JsonNode v, String name) {
        if (!v.isArray()) {
            throw ApiException.badRequest(name + " must be an array of integers", name);
        }
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                throw ApiException.badRequest(name + " must be an array of integers, got " + e + " at index " + i, name);
            }
            out[i] = e.intValue();
        }
        return out;
    }
}
