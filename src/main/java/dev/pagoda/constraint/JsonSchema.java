package dev.pagoda.constraint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JSON Schema subset of OpenAI's strict mode (and a little more) to an {@link Expr} over compact JSON
 * text: objects with properties in schema order (optional ones may be left out), additionalProperties as a
 * map schema, string (minLength/maxLength, pattern, format date, time, date-time, uuid, email, ipv4),
 * number, integer (small ranges), boolean, null, enum, const, array (items, minItems, maxItems), anyOf,
 * type lists, $ref to #, #/$defs/... and #/definitions/.... Whitespace is one optional space after ':' and
 * ',' and nowhere else, so a value cannot grow by whitespace alone. Numbers have at most 16 integer and
 * 15 fraction digits, integers at most 9 digits (they fit a 32-bit int). A recursive $ref is unrolled {@link #REF_DEPTH} times, free-form JSON nested
 * {@link #ANY_DEPTH} deep; beyond that only values without the recursion remain. Any other validation
 * keyword is refused by name (never silently ignored).
 */
final class JsonSchema {
    static final int REF_DEPTH = 3;
    static final int ANY_DEPTH = 4;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ANNOTATIONS = Set.of("title", "description", "default", "examples", "$schema", "$id",
            "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions", "strict", "name");
    private static final Set<String> KEYWORDS = Set.of("type", "properties", "required", "additionalProperties", "items",
            "minItems", "maxItems", "enum", "const", "anyOf", "allOf", "$ref", "minLength", "maxLength", "pattern", "format",
            "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
    private static final int MAX_ENUMERATED_RANGE = 1000;

    /** Characters a JSON string holds without an escape. */
    static final CodePoints UNESCAPED = CodePoints.of(0x20, CodePoints.MAX).intersect(
            CodePoints.normalize(new int[] {'"', '"', '\\', '\\'}).complement());
    private static final Expr WS = Expr.optional(Expr.literal(" "));
    private static final Expr COMMA = Expr.seq(Expr.literal(","), WS);
    private static final Expr HEX = new Expr.Chars(CodePoints.normalize(new int[] {'0', '9', 'a', 'f', 'A', 'F'}));
    static final Expr STRING_CHAR = Expr.alt(List.of(new Expr.Chars(UNESCAPED), Expr.seq(Expr.literal("\\"), Expr.alt(List.of(
            new Expr.Chars(CodePoints.normalize(new int[] {'"', '"', '\\', '\\', '/', '/', 'b', 'b', 'f', 'f', 'n', 'n', 'r', 'r', 't', 't'})),
            Expr.seq(Expr.literal("u"), new Expr.Repeat(HEX, 4, 4)))))));
    private static final Expr DIGIT = new Expr.Chars(CodePoints.of('0', '9'));
    /** At most 9 digits: integers fit the 32-bit ints clients commonly map them to. */
    private static final Expr NATURAL = Expr.alt(List.of(Expr.literal("0"),
            Expr.seq(new Expr.Chars(CodePoints.of('1', '9')), new Expr.Repeat(DIGIT, 0, 8))));
    private static final Expr INTEGER = Expr.seq(Expr.optional(Expr.literal("-")), NATURAL);
    private static final Expr NUMBER = Expr.seq(Expr.optional(Expr.literal("-")), Expr.alt(List.of(Expr.literal("0"),
                    Expr.seq(new Expr.Chars(CodePoints.of('1', '9')), new Expr.Repeat(DIGIT, 0, 15)))), Expr.optional(Expr.seq(Expr.literal("."), new Expr.Repeat(DIGIT, 1, 15))),
            Expr.optional(Expr.seq(new Expr.Chars(CodePoints.normalize(new int[] {'e', 'e', 'E', 'E'})),
                    Expr.optional(new Expr.Chars(CodePoints.normalize(new int[] {'+', '+', '-', '-'}))), new Expr.Repeat(DIGIT, 1, 2))));
    private static final Map<String, String> FORMATS = Map.of(
            "date", "\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\\d|2[0-8])",
            "time", "([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,6})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)",
            "date-time", "\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\\d|2[0-8])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,6})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)",
            "uuid", "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "email", "[a-z0-9]{1,32}(\\.[a-z0-9]{1,32}){0,2}@[a-z0-9]{1,32}(\\.[a-z0-9]{1,32}){0,2}\\.[a-z]{2,6}",
            "ipv4", "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");

    private final JsonNode root;
    private final Map<String, Integer> expanding = new HashMap<>();

    private JsonSchema(JsonNode root) {
        this.root = root;
    }

    static Expr compile(String schemaText) {
        JsonNode schema;
        try {
            schema = JSON.readTree(schemaText);
        } catch (JsonProcessingException e) {
            throw new ConstraintException("the JSON schema is not valid JSON: " + e.getOriginalMessage());
        }
        if (schema == null || !(schema.isObject() || schema.isBoolean())) {
            throw new ConstraintException("the JSON schema must be an object");
        }
        return new JsonSchema(schema).value(schema, "#");
    }

    /** Any JSON value, objects and arrays nested at most {@code depth} deep. */
    static Expr anyValue(int depth) {
        List<Expr> options = new ArrayList<>(List.of(string(0, Expr.UNBOUNDED), NUMBER, Expr.literal("true"),
                Expr.literal("false"), Expr.literal("null")));
        if (depth > 0) {
            Expr inner = anyValue(depth - 1);
            options.add(object(inner));
            options.add(Expr.seq(Expr.literal("["), new Expr.SepBy(inner, COMMA, 0, Expr.UNBOUNDED), Expr.literal("]")));
        }
        return Expr.alt(options);
    }

    private static Expr object(Expr valueOfEach) {
        Expr member = Expr.seq(string(0, Expr.UNBOUNDED), Expr.literal(":"), WS, valueOfEach);
        return Expr.seq(Expr.literal("{"), new Expr.SepBy(member, COMMA, 0, Expr.UNBOUNDED), Expr.literal("}"));
    }

    static Expr string(int min, int max) {
        return Expr.seq(Expr.literal("\""), new Expr.Repeat(STRING_CHAR, min, max), Expr.literal("\""));
    }

    /** The compact JSON text of a value, as a literal. */
    static Expr literal(JsonNode value) {
        try {
            return Expr.literal(JSON.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private ConstraintException error(String path, String what) {
        return new ConstraintException("JSON schema at " + path + ": " + what);
    }

    private Expr value(JsonNode s, String path) {
        if (s.isBoolean()) {
            return s.booleanValue() ? anyValue(ANY_DEPTH) : Expr.NOTHING;
        }
        if (!s.isObject()) {
            throw error(path, "a schema must be an object or a boolean, got " + s);
        }
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYWORDS.contains(k) && !ANNOTATIONS.contains(k)) {
                throw error(path, "the keyword '" + k + "' is not supported");
            }
        }
        if (s.has("$ref")) {
            return ref(s.get("$ref").asText(), path);
        }
        if (s.has("const")) {
            return literal(s.get("const"));
        }
        if (s.has("enum")) {
            JsonNode e = s.get("enum");
            if (!e.isArray() || e.isEmpty()) {
                throw error(path, "enum must be a non-empty array");
            }
            List<Expr> options = new ArrayList<>();
            e.forEach(v -> options.add(literal(v)));
            return Expr.alt(options);
        }
        if (s.has("anyOf")) {
            return Expr.alt(each(s.get("anyOf"), path + "/anyOf"));
        }
        if (s.has("allOf")) {
            List<Expr> all = each(s.get("allOf"), path + "/allOf");
            if (all.size() != 1) {
                throw error(path, "allOf with more than one schema is not supported");
            }
            return all.getFirst();
        }
        JsonNode type = s.get("type");
        if (type == null) {
            if (s.has("properties") || s.has("additionalProperties")) {
                return typed(s, "object", path);
            }
            if (s.has("items")) {
                return typed(s, "array", path);
            }
            return anyValue(ANY_DEPTH);
        }
        if (type.isTextual()) {
            return typed(s, type.textValue(), path);
        }
        if (type.isArray() && !type.isEmpty()) {
            List<Expr> options = new ArrayList<>();
            for (JsonNode t : type) {
                options.add(typed(s, t.asText(), path));
            }
            return Expr.alt(options);
        }
        throw error(path, "type must be a string or a non-empty array of strings");
    }

    private List<Expr> each(JsonNode list, String path) {
        if (!list.isArray() || list.isEmpty()) {
            throw error(path, "must be a non-empty array of schemas");
        }
        List<Expr> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            out.add(value(list.get(i), path + "/" + i));
        }
        return out;
    }

    private Expr ref(String ref, String path) {
        JsonNode target;
        if (ref.equals("#")) {
            target = root;
        } else if (ref.startsWith("#/")) {
            target = root.at(ref.substring(1));
        } else {
            throw error(path, "only local $ref values (#/$defs/...) are supported, got " + ref);
        }
        if (target == null || target.isMissingNode()) {
            throw error(path, "$ref " + ref + " points to nothing");
        }
        int depth = expanding.getOrDefault(ref, 0);
        if (depth >= REF_DEPTH) {
            return Expr.NOTHING;
        }
        expanding.put(ref, depth + 1);
        try {
            return value(target, ref);
        } finally {
            expanding.put(ref, depth);
        }
    }

    private Expr typed(JsonNode s, String type, String path) {
        return switch (type) {
            case "object" -> objectOf(s, path);
            case "array" -> arrayOf(s, path);
            case "string" -> stringOf(s, path);
            case "integer" -> integerOf(s, path);
            case "number" -> {
                if (s.has("minimum") || s.has("maximum") || s.has("exclusiveMinimum") || s.has("exclusiveMaximum")) {
                    throw error(path, "minimum/maximum are supported on integers only");
                }
                yield NUMBER;
            }
            case "boolean" -> Expr.alt(List.of(Expr.literal("true"), Expr.literal("false")));
            case "null" -> Expr.literal("null");
            default -> throw error(path, "unknown type '" + type + "'");
        };
    }

    private Expr objectOf(JsonNode s, String path) {
        JsonNode props = s.get("properties");
        JsonNode extra = s.get("additionalProperties");
        if (props == null || props.isEmpty()) {
            if (extra != null && extra.isObject()) {
                return object(value(extra, path + "/additionalProperties"));
            }
            return extra != null && extra.isBoolean() && !extra.booleanValue() ? Expr.literal("{}") : object(anyValue(ANY_DEPTH - 1));
        }
        if (!props.isObject()) {
            throw error(path, "properties must be an object");
        }
        List<String> required = new ArrayList<>();
        JsonNode req = s.get("required");
        if (req != null) {
            if (!req.isArray()) {
                throw error(path, "required must be an array of property names");
            }
            for (JsonNode r : req) {
                if (!props.has(r.asText())) {
                    throw error(path, "required property '" + r.asText() + "' is not in properties");
                }
                required.add(r.asText());
            }
        }
        List<Expr> members = new ArrayList<>();
        List<Boolean> isRequired = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            members.add(Expr.seq(literal(JSON.getNodeFactory().textNode(e.getKey())), Expr.literal(":"), WS,
                    value(e.getValue(), path + "/properties/" + e.getKey())));
            isRequired.add(required.contains(e.getKey()));
        }
        return Expr.seq(Expr.literal("{"), members(members, isRequired, 0, false), Expr.literal("}"));
    }

    /**
     * Members i.. in schema order, each optional one present or not; a comma goes before every member but
     * the first present one. After a member is present the rest is linear (one copy per member).
     */
    private static Expr members(List<Expr> members, List<Boolean> required, int i, boolean afterOne) {
        if (i == members.size()) {
            return Expr.EMPTY;
        }
        Expr member = afterOne ? Expr.seq(COMMA, members.get(i)) : members.get(i);
        if (required.get(i)) {
            return Expr.seq(member, members(members, required, i + 1, true));
        }
        if (afterOne) {
            return Expr.seq(Expr.optional(member), members(members, required, i + 1, true));
        }
        return Expr.alt(List.of(Expr.seq(member, members(members, required, i + 1, true)), members(members, required, i + 1, false)));
    }

    private Expr arrayOf(JsonNode s, String path) {
        JsonNode items = s.get("items");
        Expr item = items == null ? anyValue(ANY_DEPTH - 1) : value(items, path + "/items");
        int min = count(s, "minItems", 0, path);
        int max = count(s, "maxItems", Expr.UNBOUNDED, path);
        if (max != Expr.UNBOUNDED && max < min) {
            throw error(path, "maxItems " + max + " is below minItems " + min);
        }
        return Expr.seq(Expr.literal("["), new Expr.SepBy(item, COMMA, min, max), Expr.literal("]"));
    }

    private Expr stringOf(JsonNode s, String path) {
        int min = count(s, "minLength", 0, path);
        int max = count(s, "maxLength", Expr.UNBOUNDED, path);
        if (max != Expr.UNBOUNDED && max < min) {
            throw error(path, "maxLength " + max + " is below minLength " + min);
        }
        String pattern = s.has("pattern") ? s.get("pattern").asText() : null;
        if (s.has("format")) {
            String f = s.get("format").asText();
            pattern = FORMATS.get(f);
            if (pattern == null) {
                throw error(path, "format '" + f + "' is not supported (supported: " + String.join(", ", FORMATS.keySet().stream().sorted().toList()) + ")");
            }
            pattern = "^" + pattern + "$";
        }
        if (pattern == null) {
            return string(min, max);
        }
        if (s.has("minLength") || s.has("maxLength")) {
            throw error(path, "pattern or format together with minLength/maxLength is not supported");
        }
        Expr body;
        try {
            body = restrict(RegexParser.parse(pattern, UNESCAPED), UNESCAPED);
        } catch (ConstraintException e) {
            throw error(path, e.getMessage());
        }
        boolean[] anchored = RegexParser.anchors(pattern);
        Expr free = new Expr.Repeat(new Expr.Chars(UNESCAPED), 0, Expr.UNBOUNDED);
        return Expr.seq(Expr.literal("\""), anchored[0] ? Expr.EMPTY : free, body, anchored[1] ? Expr.EMPTY : free, Expr.literal("\""));
    }

    /** The pattern with every character outside {@code allowed} dropped (they would need an escape in JSON). */
    private static Expr restrict(Expr e, CodePoints allowed) {
        return switch (e) {
            case Expr.Chars c -> new Expr.Chars(c.set().intersect(allowed));
            case Expr.Seq s -> new Expr.Seq(s.parts().stream().map(p -> restrict(p, allowed)).toList());
            case Expr.Alt a -> new Expr.Alt(a.options().stream().map(p -> restrict(p, allowed)).toList());
            case Expr.Repeat r -> new Expr.Repeat(restrict(r.item(), allowed), r.min(), r.max());
            case Expr.SepBy b -> new Expr.SepBy(restrict(b.item(), allowed), restrict(b.sep(), allowed), b.min(), b.max());
        };
    }

    private Expr integerOf(JsonNode s, String path) {
        Long lo = bound(s, "minimum", path), hi = bound(s, "maximum", path);
        Long xlo = bound(s, "exclusiveMinimum", path), xhi = bound(s, "exclusiveMaximum", path);
        if (xlo != null) {
            lo = lo == null ? xlo + 1 : Math.max(lo, xlo + 1);
        }
        if (xhi != null) {
            hi = hi == null ? xhi - 1 : Math.min(hi, xhi - 1);
        }
        if (lo == null && hi == null) {
            return INTEGER;
        }
        if (lo != null && hi != null && hi - lo < MAX_ENUMERATED_RANGE) {
            if (hi < lo) {
                throw error(path, "maximum " + hi + " is below minimum " + lo);
            }
            List<Expr> options = new ArrayList<>();
            for (long v = lo; v <= hi; v++) {
                options.add(Expr.literal(Long.toString(v)));
            }
            return Expr.alt(options);
        }
        if (hi == null && lo == 0) {
            return NATURAL;
        }
        if (hi == null && lo == 1) {
            return Expr.seq(new Expr.Chars(CodePoints.of('1', '9')), new Expr.Repeat(DIGIT, 0, 8));
        }
        throw error(path, "integer bounds are supported as a range of at most " + MAX_ENUMERATED_RANGE
                + " values, or a minimum of 0 or 1 alone");
    }

    private Long bound(JsonNode s, String key, String path) {
        JsonNode v = s.get(key);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() && !(v.isNumber() && v.doubleValue() == Math.rint(v.doubleValue()))) {
            throw error(path, key + " must be an integer here, got " + v);
        }
        return v.longValue();
    }

    private int count(JsonNode s, String key, int absent, String path) {
        JsonNode v = s.get(key);
        if (v == null) {
            return absent;
        }
        if (!v.isIntegralNumber() || v.longValue() < 0 || v.longValue() > 100_000) {
            throw error(path, key + " must be a non-negative integer, got " + v);
        }
        return v.intValue();
    }
}
