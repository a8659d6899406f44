package dev.pagoda.server;

import java.util.Arrays;
import java.util.Map;

/**
 * JSON text as Python's {@code json.dumps(x, ensure_ascii=False, indent=...)} writes it, which is what chat templates'
 * {@code tojson} produces under Hugging Face: ", " and ": " separators on one line, or ",\n" + indent and ": " with an
 * indent; non-ASCII characters kept, control characters escaped. Keys keep their order.
 */
final class PythonJson {
    private PythonJson() {
    }

    /** @param indent spaces per level, or -1 for one line */
    static String dumps(Object value, int indent) {
        StringBuilder out = new StringBuilder();
        write(value, indent, 0, out);
        return out.toString();
    }

    private static void write(Object v, int indent, int depth, StringBuilder out) {
        switch (v) {
            case null -> out.append("null");
            case String s -> string(s, out);
            case Boolean b -> out.append(b ? "true" : "false");
            case Double d when d == Math.rint(d) && !d.isInfinite() && Math.abs(d) < 1e16 -> out.append(d.longValue()).append(".0");
            case Number n -> out.append(n);
            case Map<?, ?> m -> container('{', '}', m.entrySet(), m.isEmpty(), indent, depth, out, (e, o) -> {
                string(String.valueOf(((Map.Entry<?, ?>) e).getKey()), o);
                o.append(": ");
                write(((Map.Entry<?, ?>) e).getValue(), indent, depth + 1, o);
            });
            case Iterable<?> list -> container('[', ']', list, !list.iterator().hasNext(), indent, depth, out,
                    (e, o) -> write(e, indent, depth + 1, o));
            case Object[] array -> write(Arrays.asList(array), indent, depth, out);
            default -> string(v.toString(), out);
        }
    }

    private interface ElementWriter {
        void write(Object element, StringBuilder out);
    }

    private static void container(char open, char close, Iterable<?> elements, boolean empty, int indent, int depth,
                                  StringBuilder out, ElementWriter each) {
        out.append(open);
        if (empty) {
            out.append(close);
            return;
        }
        boolean first = true;
        for (Object e : elements) {
            if (!first) {
                out.append(indent < 0 ? ", " : ",");
            }
            if (indent >= 0) {
                out.append('\n').append(" ".repeat(indent * (depth + 1)));
            }
            each.write(e, out);
            first = false;
        }
        if (indent >= 0) {
            out.append('\n').append(" ".repeat(indent * depth));
        }
        out.append(close);
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
