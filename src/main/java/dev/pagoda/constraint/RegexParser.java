package dev.pagoda.constraint;

import java.util.ArrayList;
import java.util.List;

/**
 * Regular expressions (the common subset of Java, Python and ECMAScript syntax) to an {@link Expr}, matched
 * against the whole text: literals and escapes ({@code \d \w \s \D \W \S \n \t \r \f \v \xHH \\uHHHH},
 * escaped metacharacters), {@code .} (anything but a newline), classes {@code [a-z]} and {@code [^...]},
 * groups {@code (...)}, {@code (?:...)}, {@code (?<name>...)}, alternation, quantifiers
 * {@code * + ? {n} {n,} {n,m}} (a lazy {@code ?} suffix means the same set of texts), and {@code ^} / {@code $}
 * at the ends. Backreferences, lookaround and word boundaries are refused by name.
 */
final class RegexParser {
    private final String src;
    private final CodePoints any;
    private int pos;

    private RegexParser(String src, CodePoints any) {
        this.src = src;
        this.any = any;
    }

    /** @param any what {@code .} and negated classes range over (JSON strings narrow it to unescaped characters) */
    static Expr parse(String regex, CodePoints any) {
        RegexParser p = new RegexParser(regex, any);
        if (p.peek('^')) {
            p.pos++;
        }
        Expr e = p.alternation();
        if (p.pos < regex.length()) {
            throw p.error("unbalanced ')'");
        }
        return e;
    }

    /** Whether a JSON Schema pattern is anchored at its start and at its end (patterns otherwise match anywhere). */
    static boolean[] anchors(String regex) {
        boolean end = regex.endsWith("$") && !regex.endsWith("\\$");
        return new boolean[] {regex.startsWith("^"), end};
    }

    private ConstraintException error(String what) {
        return new ConstraintException("invalid regular expression '" + src + "' at position " + pos + ": " + what);
    }

    private boolean peek(char c) {
        return pos < src.length() && src.charAt(pos) == c;
    }

    private Expr alternation() {
        List<Expr> options = new ArrayList<>();
        options.add(sequence());
        while (peek('|')) {
            pos++;
            options.add(sequence());
        }
        return Expr.alt(options);
    }

    private Expr sequence() {
        List<Expr> parts = new ArrayList<>();
        while (pos < src.length() && !peek('|') && !peek(')')) {
            if (peek('$') && pos == src.length() - 1) {
                pos++;
                break;
            }
            Expr atom = atom();
            parts.add(quantified(atom));
        }
        return parts.size() == 1 ? parts.getFirst() : new Expr.Seq(parts);
    }

    private Expr quantified(Expr atom) {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            int min, max;
            if (c == '*') {
                min = 0;
                max = Expr.UNBOUNDED;
                pos++;
            } else if (c == '+') {
                min = 1;
                max = Expr.UNBOUNDED;
                pos++;
            } else if (c == '?') {
                min = 0;
                max = 1;
                pos++;
            } else if (c == '{' && isCount()) {
                pos++;
                min = number();
                max = min;
                if (peek(',')) {
                    pos++;
                    max = peek('}') ? Expr.UNBOUNDED : number();
                }
                pos++;
                if (max != Expr.UNBOUNDED && max < min) {
                    throw error("repetition {" + min + "," + max + "} has max below min");
                }
            } else {
                return atom;
            }
            if (peek('?') || peek('+')) {
                pos++;
            }
            atom = new Expr.Repeat(atom, min, max);
        }
        return atom;
    }

    private boolean isCount() {
        int end = src.indexOf('}', pos);
        return end > pos + 1 && src.substring(pos + 1, end).matches("\\d+(,\\d*)?");
    }

    private int number() {
        int start = pos;
        while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
            pos++;
        }
        try {
            return Integer.parseInt(src.substring(start, pos));
        } catch (NumberFormatException e) {
            throw error("repetition count too large");
        }
    }

    private Expr atom() {
        char c = src.charAt(pos);
        switch (c) {
            case '(' -> {
                pos++;
                if (peek('?')) {
                    if (src.startsWith("?:", pos)) {
                        pos += 2;
                    } else if (src.startsWith("?<", pos) && pos + 2 < src.length() && src.charAt(pos + 2) != '=' && src.charAt(pos + 2) != '!') {
                        int end = src.indexOf('>', pos);
                        if (end < 0) {
                            throw error("unterminated group name");
                        }
                        pos = end + 1;
                    } else if (src.startsWith("?P<", pos)) {
                        pos = src.indexOf('>', pos) + 1;
                    } else {
                        throw error("lookaround and inline flags are not supported");
                    }
                }
                Expr e = alternation();
                if (!peek(')')) {
                    throw error("missing ')'");
                }
                pos++;
                return e;
            }
            case '[' -> {
                return new Expr.Chars(charClass());
            }
            case '.' -> {
                pos++;
                return new Expr.Chars(any.intersect(CodePoints.of('\n', '\n').complement()));
            }
            case '\\' -> {
                return new Expr.Chars(escape(false));
            }
            case '*', '+', '?' -> throw error("nothing to repeat before '" + c + "'");
            case '^' -> throw error("'^' is only supported at the start");
            case '$' -> throw error("'$' is only supported at the end");
            default -> {
                int cp = src.codePointAt(pos);
                pos += Character.charCount(cp);
                return new Expr.Chars(CodePoints.of(cp, cp));
            }
        }
    }

    private CodePoints charClass() {
        pos++;
        boolean negate = peek('^');
        if (negate) {
            pos++;
        }
        CodePoints set = CodePoints.NONE;
        boolean first = true;
        while (pos < src.length() && (first || !peek(']'))) {
            first = false;
            CodePoints item;
            int lo;
            if (peek('\\')) {
                item = escape(true);
                lo = single(item);
            } else if (src.startsWith("[:", pos)) {
                throw error("POSIX classes like [:alpha:] are not supported");
            } else {
                lo = src.codePointAt(pos);
                pos += Character.charCount(lo);
                item = CodePoints.of(lo, lo);
            }
            if (lo >= 0 && peek('-') && pos + 1 < src.length() && src.charAt(pos + 1) != ']') {
                pos++;
                int hi;
                if (peek('\\')) {
                    hi = single(escape(true));
                    if (hi < 0) {
                        throw error("a class escape cannot end a range");
                    }
                } else {
                    hi = src.codePointAt(pos);
                    pos += Character.charCount(hi);
                }
                if (hi < lo) {
                    throw error("range out of order in character class");
                }
                item = CodePoints.of(lo, hi);
            }
            set = set.union(item);
        }
        if (!peek(']')) {
            throw error("missing ']'");
        }
        pos++;
        return negate ? any.intersect(set.complement()) : set;
    }

    private static int single(CodePoints set) {
        int[] r = set.ranges();
        return r.length == 2 && r[0] == r[1] ? r[0] : -1;
    }

    private CodePoints escape(boolean inClass) {
        pos++;
        if (pos >= src.length()) {
            throw error("trailing backslash");
        }
        char c = src.charAt(pos++);
        return switch (c) {
            case 'd' -> CodePoints.of('0', '9');
            case 'D' -> any.intersect(CodePoints.of('0', '9').complement());
            case 'w' -> word();
            case 'W' -> any.intersect(word().complement());
            case 's' -> space();
            case 'S' -> any.intersect(space().complement());
            case 'n' -> CodePoints.of('\n', '\n');
            case 't' -> CodePoints.of('\t', '\t');
            case 'r' -> CodePoints.of('\r', '\r');
            case 'f' -> CodePoints.of('\f', '\f');
            case 'v' -> CodePoints.of(0x0B, 0x0B);
            case '0' -> CodePoints.of(0, 0);
            case 'x' -> hex(2);
            case 'u' -> hex(4);
            case 'b' -> {
                if (inClass) {
                    yield CodePoints.of('\b', '\b');
                }
                throw error("word boundaries (\\b) are not supported");
            }
            default -> {
                if (Character.isLetterOrDigit(c)) {
                    throw error("unsupported escape \\" + c);
                }
                yield CodePoints.of(c, c);
            }
        };
    }

    private CodePoints hex(int digits) {
        if (pos + digits > src.length()) {
            throw error("incomplete hex escape");
        }
        try {
            int cp = Integer.parseInt(src.substring(pos, pos + digits), 16);
            pos += digits;
            return CodePoints.of(cp, cp);
        } catch (NumberFormatException e) {
            throw error("bad hex escape");
        }
    }

    private static CodePoints word() {
        return CodePoints.normalize(new int[] {'a', 'z', 'A', 'Z', '0', '9', '_', '_'});
    }

    private static CodePoints space() {
        return CodePoints.normalize(new int[] {' ', ' ', '\t', '\r'});
    }
}
