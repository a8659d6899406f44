package dev.pagoda.constraint;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a guided request's output must be (a JSON Schema, any JSON value, a regular expression, one of a
 * list of strings, or a grammar), compiled to a byte-level automaton independent of any vocabulary.
 * Compiled constraints are cached by their kind and source text, so a schema sent with every request is
 * compiled once; equal sources give the same instance. Immutable and thread-safe.
 */
public final class Constraint {
    /** Sources kept at most; the cache starts over beyond (it holds only what clients keep resending). */
    private static final int CACHE_LIMIT = 512;
    private static final Map<String, Constraint> CACHE = new ConcurrentHashMap<>();

    public enum Kind { JSON_SCHEMA, JSON_OBJECT, REGEX, CHOICE, GRAMMAR }

    private final Kind kind;
    private final String source;
    private final Nfa nfa;
    private final long compileNanos;

    private Constraint(Kind kind, String source, Nfa nfa, long compileNanos) {
        this.kind = kind;
        this.source = source;
        this.nfa = nfa;
        this.compileNanos = compileNanos;
    }

    /** Output is JSON valid against the schema (see {@link JsonSchema} for the supported subset). */
    public static Constraint jsonSchema(String schema) {
        return cached(Kind.JSON_SCHEMA, schema, () -> JsonSchema.compile(schema));
    }

    /** Output is any JSON value (nesting bounded; one optional space after ':' and ','). */
    public static Constraint jsonObject() {
        return cached(Kind.JSON_OBJECT, "", () -> JsonSchema.anyValue(JsonSchema.ANY_DEPTH));
    }

    /** Output matches the regular expression as a whole. */
    public static Constraint regex(String regex) {
        return cached(Kind.REGEX, regex, () -> RegexParser.parse(regex, CodePoints.ALL));
    }

    /** Output is exactly one of the strings. */
    public static Constraint choice(List<String> choices) {
        if (choices.isEmpty()) {
            throw new ConstraintException("the choice list is empty");
        }
        return cached(Kind.CHOICE, String.join("\u0000", choices), () -> Expr.alt(choices.stream().map(Expr::literal).toList()));
    }

    /** Output is a sentence of the GBNF-like grammar, from its rule {@code root}. */
    public static Constraint grammar(String grammar) {
        return cached(Kind.GRAMMAR, grammar, () -> Grammar.compile(grammar));
    }

    private interface Source {
        Expr expr();
    }

    private static Constraint cached(Kind kind, String source, Source compile) {
        String key = kind + "\u0000" + source;
        Constraint c = CACHE.get(key);
        if (c != null) {
            return c;
        }
        long t0 = System.nanoTime();
        Nfa nfa = Nfa.of(compile.expr());
        c = new Constraint(kind, source, nfa, System.nanoTime() - t0);
        if (CACHE.size() >= CACHE_LIMIT) {
            CACHE.clear();
        }
        Constraint prev = CACHE.putIfAbsent(key, c);
        return prev != null ? prev : c;
    }

    public Kind kind() {
        return kind;
    }

    public String source() {
        return source;
    }

    /** Time the first compile of this source took (parse, unroll, automaton). */
    public long compileNanos() {
        return compileNanos;
    }

    Nfa nfa() {
        return nfa;
    }

    @Override
    public String toString() {
        return kind + " " + (source.length() > 80 ? source.substring(0, 80) + "..." : source);
    }
}
