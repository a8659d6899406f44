package dev.pagoda.server;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.function.Predicate;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's str methods on template strings, which Hugging Face templates call (Qwen3's:
 * {@code content.split('</think>')[0].rstrip('\n')}, {@code message.content.startswith('<tool_response>')}) and
 * Jinjava, whose strings are Java's, lacks: startswith, endswith (a prefix or a list of them), split and rsplit
 * (by a separator or by whitespace, with maxsplit), strip, lstrip and rstrip (whitespace or a set of
 * characters), lower, upper, replace, find, title and capitalize. Any other call passes to Jinjava's own
 * resolver.
 */
final class PythonStrings extends ELResolver {
    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || !(method instanceof String name)) {
            return null;
        }
        Object[] p = params == null ? new Object[0] : params;
        Object result = switch (name) {
            case "startswith" -> p.length == 1 ? anyOf(p[0], s::startsWith) : null;
            case "endswith" -> p.length == 1 ? anyOf(p[0], s::endsWith) : null;
            case "split" -> p.length <= 2 ? split(s, arg(p, 0), maxSplit(p)) : null;
            case "rsplit" -> p.length <= 2 ? rsplit(s, arg(p, 0), maxSplit(p)) : null;
            case "strip" -> p.length <= 1 ? rstrip(lstrip(s, arg(p, 0)), arg(p, 0)) : null;
            case "lstrip" -> p.length <= 1 ? lstrip(s, arg(p, 0)) : null;
            case "rstrip" -> p.length <= 1 ? rstrip(s, arg(p, 0)) : null;
            case "lower" -> p.length == 0 ? s.toLowerCase() : null;
            case "upper" -> p.length == 0 ? s.toUpperCase() : null;
            case "replace" -> p.length == 2 ? s.replace(String.valueOf(p[0]), String.valueOf(p[1])) : null;
            case "find" -> p.length == 1 ? (long) s.indexOf(String.valueOf(p[0])) : null;
            case "title" -> p.length == 0 ? title(s) : null;
            case "capitalize" -> p.length == 0 ? (s.isEmpty() ? s : s.substring(0, 1).toUpperCase() + s.substring(1).toLowerCase()) : null;
            default -> null;
        };
        if (result != null) {
            context.setPropertyResolved(true);
        }
        return result;
    }

    private static Boolean anyOf(Object prefixes, Predicate<String> test) {
        if (prefixes instanceof Collection<?> c) {
            return c.stream().anyMatch(x -> test.test(String.valueOf(x)));
        }
        return test.test(String.valueOf(prefixes));
    }

    /** The string argument at {@code i}, or null when absent or None (whitespace). */
    private static String arg(Object[] p, int i) {
        return i < p.length && p[i] != null ? String.valueOf(p[i]) : null;
    }

    private static int maxSplit(Object[] p) {
        return p.length > 1 && p[1] instanceof Number n ? n.intValue() : -1;
    }

    private static List<String> split(String s, String sep, int max) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            while (true) {
                while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                    i++;
                }
                if (i == s.length()) {
                    return out;
                }
                if (max >= 0 && out.size() == max) {
                    out.add(s.substring(i));
                    return out;
                }
                int j = i;
                while (j < s.length() && !Character.isWhitespace(s.charAt(j))) {
                    j++;
                }
                out.add(s.substring(i, j));
                i = j;
            }
        }
        if (sep.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        int from = 0;
        for (int at = s.indexOf(sep); at >= 0 && (max < 0 || out.size() < max); at = s.indexOf(sep, from)) {
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static List<String> rsplit(String s, String sep, int max) {
        if (max < 0) {
            return split(s, sep, -1);
        }
        // Splitting the reversed text by the reversed separator, then reversing back, splits from the right.
        String rev = new StringBuilder(s).reverse().toString();
        List<String> parts = split(rev, sep == null ? null : new StringBuilder(sep).reverse().toString(), max);
        List<String> out = new ArrayList<>(parts.size());
        for (int i = parts.size() - 1; i >= 0; i--) {
            out.add(new StringBuilder(parts.get(i)).reverse().toString());
        }
        return out;
    }

    private static boolean stripped(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
    }

    private static String lstrip(String s, String chars) {
        int i = 0;
        while (i < s.length() && stripped(s.charAt(i), chars)) {
            i++;
        }
        return s.substring(i);
    }

    private static String rstrip(String s, String chars) {
        int j = s.length();
        while (j > 0 && stripped(s.charAt(j - 1), chars)) {
            j--;
        }
        return s.substring(0, j);
    }

    private static String title(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(prevCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            prevCased = Character.isLetter(c);
        }
        return b.toString();
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // Not ours: the next resolver sets values.
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return false;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
