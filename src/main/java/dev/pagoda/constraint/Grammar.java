package dev.pagoda.constraint;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GBNF-like EBNF grammar (llama.cpp's notation) to an {@link Expr}: rules {@code name ::= body}, one per
 * line start, starting from {@code root}; bodies of "literals" (with \n \t \" \\ \xHH \\uHHHH escapes),
 * [character classes], {@code .}, rule names, (groups), alternation {@code |}, and {@code * + ? {m} {m,}
 * {m,n}}; {@code #} comments. A rule referring to itself (directly or not) is unrolled
 * {@link #RECURSION_DEPTH} times; beyond that the recursive alternative is dropped.
 */
final class Grammar {
    static final int RECURSION_DEPTH = 4;
    private static final Pattern RULE = Pattern.compile("(?m)^[ \\t]*([A-Za-z][A-Za-z0-9_-]*)[ \\t]*::=");

    private final Map<String, String> bodies = new LinkedHashMap<>();
    private final Map<String, Integer> expanding = new HashMap<>();

    private Grammar(String text) {
        Matcher m = RULE.matcher(text);
        List<int[]> starts = new ArrayList<>();
        List<String> names = new ArrayList<>();
        while (m.find()) {
            starts.add(new int[] {m.start(), m.end()});
            names.add(m.group(1));
        }
        if (starts.isEmpty()) {
            throw new ConstraintException("invalid grammar: no rule of the form 'name ::= ...'");
        }
        if (!text.substring(0, starts.getFirst()[0]).replaceAll("(?m)#.*$", "").isBlank()) {
            throw new ConstraintException("invalid grammar: text before the first rule");
        }
        for (int i = 0; i < starts.size(); i++) {
            int end = i + 1 < starts.size() ? starts.get(i + 1)[0] : text.length();
            if (bodies.put(names.get(i), text.substring(starts.get(i)[1], end)) != null) {
                throw new ConstraintException("invalid grammar: rule '" + names.get(i) + "' is defined twice");
            }
        }
        if (!bodies.containsKey("root")) {
            throw new ConstraintException("invalid grammar: no 'root' rule");
        }
    }

    static Expr compile(String text) {
        Grammar g = new Grammar(text);
        Expr root = g.rule("root", "root");
        for (String name : g.bodies.keySet()) {
            // Parse every rule once so that an error in an unused rule is reported too.
            g.rule(name, name);
        }
        return root;
    }

    private Expr rule(String name, String from) {
        String body = bodies.get(name);
        if (body == null) {
            throw new ConstraintException("invalid grammar: rule '" + from + "' refers to undefined rule '" + name + "'");
        }
        int depth = expanding.getOrDefault(name, 0);
        if (depth >= RECURSION_DEPTH) {
            return Expr.NOTHING;
        }
        expanding.put(name, depth + 1);
        try {
            Body p = new Body(name, body);
            Expr e = p.alternation();
            p.skipSpace();
            if (p.pos < body.length()) {
                throw p.error("unexpected '" + body.charAt(p.pos) + "'");
            }
            return e;
        } finally {
            expanding.put(name, depth);
        }
    }

    private final class Body {
        private final String rule;
        private final String src;
        private int pos;

        Body(String rule, String src) {
            this.rule = rule;
            this.src = src;
        }

        ConstraintException error(String what) {
            return new ConstraintException("invalid grammar in rule '" + rule + "': " + what);
        }

        void skipSpace() {
            while (pos < src.length()) {
                char c = src.charAt(pos);
                if (c == '#') {
                    while (pos < src.length() && src.charAt(pos) != '\n') {
                        pos++;
                    }
                } else if (Character.isWhitespace(c)) {
                    pos++;
                } else {
                    return;
                }
            }
        }

        boolean at(char c) {
            skipSpace();
            return pos < src.length() && src.charAt(pos) == c;
        }

        Expr alternation() {
            List<Expr> options = new ArrayList<>();
            options.add(sequence());
            while (at('|')) {
                pos++;
                options.add(sequence());
            }
            return Expr.alt(options);
        }

        Expr sequence() {
            List<Expr> parts = new ArrayList<>();
            while (pos < src.length() && !at('|') && !at(')') && pos < src.length()) {
                parts.add(quantified(atom()));
                skipSpace();
            }
            return parts.size() == 1 ? parts.getFirst() : new Expr.Seq(parts);
        }

        Expr quantified(Expr e) {
            while (pos < src.length()) {
                char c = src.charAt(pos);
                if (c == '*') {
                    e = new Expr.Repeat(e, 0, Expr.UNBOUNDED);
                } else if (c == '+') {
                    e = new Expr.Repeat(e, 1, Expr.UNBOUNDED);
                } else if (c == '?') {
                    e = Expr.optional(e);
                } else if (c == '{') {
                    int end = src.indexOf('}', pos);
                    String[] mn = end < 0 ? null : src.substring(pos + 1, end).split(",", -1);
                    try {
                        int min = Integer.parseInt(mn[0].trim());
                        int max = mn.length == 1 ? min : mn[1].isBlank() ? Expr.UNBOUNDED : Integer.parseInt(mn[1].trim());
                        e = new Expr.Repeat(e, min, max);
                    } catch (RuntimeException x) {
                        throw error("bad repetition at " + src.substring(pos, end < 0 ? src.length() : end + 1));
                    }
                    pos = end;
                } else {
                    return e;
                }
                pos++;
            }
            return e;
        }

        Expr atom() {
            skipSpace();
            char c = src.charAt(pos);
            if (c == '"') {
                return literal();
            }
            if (c == '[') {
                int end = pos + 1;
                while (end < src.length() && (src.charAt(end) != ']' || end == pos + 1 || (src.charAt(end - 1) == '\\' && src.charAt(end - 2) != '\\'))) {
                    end++;
                }
                if (end >= src.length()) {
                    throw error("missing ']'");
                }
                String cls = src.substring(pos, end + 1);
                pos = end + 1;
                return RegexParser.parse(cls, CodePoints.ALL);
            }
            if (c == '.') {
                pos++;
                return new Expr.Chars(CodePoints.ALL);
            }
            if (c == '(') {
                pos++;
                Expr e = alternation();
                if (!at(')')) {
                    throw error("missing ')'");
                }
                pos++;
                return e;
            }
            int start = pos;
            while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_' || src.charAt(pos) == '-')) {
                pos++;
            }
            if (start == pos) {
                throw error("unexpected '" + c + "'");
            }
            return rule(src.substring(start, pos), rule);
        }

        Expr literal() {
            StringBuilder sb = new StringBuilder();
            pos++;
            while (pos < src.length() && src.charAt(pos) != '"') {
                char c = src.charAt(pos++);
                if (c == '\\') {
                    if (pos >= src.length()) {
                        break;
                    }
                    char e = src.charAt(pos++);
                    switch (e) {
                        case 'n' -> sb.append('\n');
                        case 't' -> sb.append('\t');
                        case 'r' -> sb.append('\r');
                        case 'x', 'u' -> {
                            int digits = e == 'x' ? 2 : 4;
                            if (pos + digits > src.length()) {
                                throw error("incomplete escape");
                            }
                            sb.appendCodePoint(Integer.parseInt(src.substring(pos, pos + digits), 16));
                            pos += digits;
                        }
                        default -> sb.append(e);
                    }
                } else {
                    sb.append(c);
                }
            }
            if (pos >= src.length()) {
                throw error("unterminated string literal");
            }
            pos++;
            return Expr.literal(sb.toString());
        }
    }
}
