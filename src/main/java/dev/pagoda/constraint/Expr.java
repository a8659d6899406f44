package dev.pagoda.constraint;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A regular expression over text, the common form every constraint (JSON Schema, regex, choice, grammar)
 * compiles to before it becomes an {@link Nfa}. Recursive sources (a {@code $ref} cycle, a recursive
 * grammar rule, JSON nesting) are unrolled to a bounded depth first, so the language stays regular.
 */
sealed interface Expr {
    /** One character from a code point set. */
    record Chars(CodePoints set) implements Expr {
    }

    /** The parts one after another. */
    record Seq(List<Expr> parts) implements Expr {
    }

    /** Any one of the options; none at all matches nothing (a recursion cut off at its depth bound). */
    record Alt(List<Expr> options) implements Expr {
    }

    /** {@code item} repeated min..max times; max {@link #UNBOUNDED} for no limit. */
    record Repeat(Expr item, int min, int max) implements Expr {
    }

    /**
     * {@code item (sep item)*} with min..max items (max {@link #UNBOUNDED} for no limit): unbounded, the
     * item's automaton exists once and the separator loops back to it.
     */
    record SepBy(Expr item, Expr sep, int min, int max) implements Expr {
    }

    int UNBOUNDED = -1;

    Expr EMPTY = new Seq(List.of());
    Expr NOTHING = new Alt(List.of());

    static Expr literal(String text) {
        List<Expr> parts = new ArrayList<>();
        text.codePoints().forEach(c -> parts.add(new Chars(CodePoints.of(c, c))));
        return parts.size() == 1 ? parts.getFirst() : new Seq(parts);
    }

    static Expr seq(Expr... parts) {
        return new Seq(List.of(parts));
    }

    static Expr alt(List<Expr> options) {
        return options.size() == 1 ? options.getFirst() : new Alt(List.copyOf(options));
    }

    static Expr optional(Expr e) {
        return new Repeat(e, 0, 1);
    }

    /** The UTF-8 length of a literal, for messages. */
    static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
