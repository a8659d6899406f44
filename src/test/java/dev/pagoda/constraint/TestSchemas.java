package dev.pagoda.constraint;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.util.List;
import java.util.Map;

/**
 * The acceptance schemas (nested objects, arrays with bounds, enums, anyOf, $ref, numbers, unicode strings,
 * formats), each bounded so that even a random model finishes a value, and an independent validator for them.
 */
public final class TestSchemas {
    private TestSchemas() {
    }

    public static final Map<String, String> ALL = Map.of(
            "person", """
                    {"type":"object","properties":{"name":{"type":"string","maxLength":6},
                     "age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"],"additionalProperties":false}""",
            "nested", """
                    {"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"integer"},
                     "tags":{"type":"array","items":{"type":"string","maxLength":4},"maxItems":2}},"required":["id","tags"],
                     "additionalProperties":false},"active":{"type":"boolean"}},"required":["user","active"],"additionalProperties":false}""",
            "bounded-array", """
                    {"type":"array","items":{"type":"integer","minimum":0,"maximum":9},"minItems":2,"maxItems":5}""",
            "enums", """
                    {"type":"object","properties":{"color":{"enum":["red","green","blue"]},"size":{"type":"string","enum":["S","M","L"]},
                     "count":{"const":3}},"required":["color","size","count"],"additionalProperties":false}""",
            "any-of", """
                    {"type":"object","properties":{"value":{"anyOf":[{"type":"integer"},{"type":"string","maxLength":5},{"type":"null"}]}},
                     "required":["value"],"additionalProperties":false}""",
            "ref-tree", """
                    {"$defs":{"node":{"type":"object","properties":{"name":{"type":"string","maxLength":3},
                     "children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["name","children"],
                     "additionalProperties":false}},"$ref":"#/$defs/node"}""",
            "numbers", """
                    {"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"},"n":{"type":["integer","null"]}},
                     "required":["x","y","n"],"additionalProperties":false}""",
            "unicode", """
                    {"type":"object","properties":{"greeting":{"enum":["héllo","日本語","🎉 party"]},
                     "word":{"type":"string","pattern":"^[α-ω]{1,6}$"},"free":{"type":"string","maxLength":4}},
                     "required":["greeting","word","free"],"additionalProperties":false}""",
            "optional-formats", """
                    {"type":"object","properties":{"id":{"type":"string","format":"uuid"},"date":{"type":"string","format":"date"},
                     "note":{"type":"string","maxLength":3},"score":{"type":"integer","minimum":1}},"required":["id"],
                     "additionalProperties":false}""",
            "order-lines", """
                    {"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{
                     "sku":{"type":"string","pattern":"^[A-Z]{3}-\\\\d{3}$"},"qty":{"type":"integer","minimum":1,"maximum":99}},
                     "required":["sku","qty"],"additionalProperties":false},"minItems":1,"maxItems":2}},"required":["items"],
                     "additionalProperties":false}""");

    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    /** The validator's complaints about {@code json} (it must parse), empty when valid. */
    public static List<Error> validate(String schema, String json) {
        Schema s = REGISTRY.getSchema(schema, InputFormat.JSON);
        return s.validate(json, InputFormat.JSON);
    }
}
