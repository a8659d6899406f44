package dev.pagoda.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.List;

/**
 * One tool call object {@code {"name": "...", "arguments": {...}}} read a character at a time, so that a
 * stream can name the call as soon as its name is complete and pass its arguments on while they are written.
 * The arguments are kept as written, less the whitespace outside strings (the same text streamed or whole).
 * Other members are skipped; an arguments value given as a JSON string stands for the text it holds.
 */
final class ToolCallReader {
    enum Step { MORE, DONE, MALFORMED }

    /** Where the reader is in the object, outside the value being read. */
    private enum Slot { OPEN, FIRST_KEY, KEY, IN_KEY, COLON, VALUE, IN_VALUE, COMMA_OR_END }

    private final List<String> argumentKeys;
    private Slot slot = Slot.OPEN;
    /** Nesting depth: the call object itself is depth 1. */
    private int depth;
    private boolean inString;
    private boolean escape;
    private final StringBuilder key = new StringBuilder();
    private final StringBuilder value = new StringBuilder();
    private String member;
    private char kind;
    private String name;
    private final StringBuilder arguments = new StringBuilder();
    private boolean argumentsSeen;
    private int taken;

    /** @param argumentKeys the member names that hold the arguments (the first one present counts) */
    ToolCallReader(List<String> argumentKeys) {
        this.argumentKeys = argumentKeys;
    }

    /** The call's name once its string is complete, else null. */
    String name() {
        return name;
    }

    /** The arguments text written since the last call (a string-valued arguments member comes whole at its end). */
    String takeArguments() {
        String s = arguments.substring(taken);
        taken = arguments.length();
        return s;
    }

    /** After {@link Step#DONE}: whether the object was a call (a name and object or string arguments that parse). */
    boolean isCall() {
        if (name == null || !argumentsSeen) {
            return false;
        }
        try {
            return kind == '"' || JsonFields.JSON.readTree(arguments.toString()).isObject();
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    Step accept(char c) {
        boolean ws = c == ' ' || c == '\n' || c == '\r' || c == '\t';
        switch (slot) {
            case OPEN -> {
                if (ws) {
                    return Step.MORE;
                }
                if (c != '{') {
                    return Step.MALFORMED;
                }
                depth = 1;
                slot = Slot.FIRST_KEY;
            }
            case FIRST_KEY, KEY -> {
                if (ws) {
                    return Step.MORE;
                }
                if (c == '}' && slot == Slot.FIRST_KEY) {
                    return Step.DONE;
                }
                if (c != '"') {
                    return Step.MALFORMED;
                }
                key.setLength(0);
                key.append('"');
                slot = Slot.IN_KEY;
            }
            case IN_KEY -> {
                key.append(c);
                if (stringEnds(c)) {
                    member = decode(key);
                    if (member == null) {
                        return Step.MALFORMED;
                    }
                    slot = Slot.COLON;
                }
            }
            case COLON -> {
                if (ws) {
                    return Step.MORE;
                }
                if (c != ':') {
                    return Step.MALFORMED;
                }
                slot = Slot.VALUE;
            }
            case VALUE -> {
                if (ws) {
                    return Step.MORE;
                }
                return startValue(c);
            }
            case IN_VALUE -> {
                return inValue(c, ws);
            }
            case COMMA_OR_END -> {
                return commaOrEnd(c, ws);
            }
        }
        return Step.MORE;
    }

    private Step startValue(char c) {
        kind = c == '"' || c == '{' || c == '[' ? c : 's';
        boolean isName = member.equals("name") && name == null;
        boolean isArguments = argumentKeys.contains(member) && !argumentsSeen;
        if ((isName && kind != '"') || (isArguments && kind != '"' && kind != '{') || (kind == 's' && "-0123456789tfn".indexOf(c) < 0)) {
            return Step.MALFORMED;
        }
        if (isArguments) {
            argumentsSeen = true;
            member = argumentKeys.getFirst();
        } else if (!isName) {
            member = "";
        }
        value.setLength(0);
        slot = Slot.IN_VALUE;
        inString = c == '"';
        if (c == '{' || c == '[') {
            depth++;
        }
        append(c);
        return Step.MORE;
    }

    private Step inValue(char c, boolean ws) {
        if (inString) {
            append(c);
            if (stringEnds(c) && depth == 1) {
                return endValue();
            }
            return Step.MORE;
        }
        if (kind == 's') {
            if (ws || c == ',' || c == '}') {
                slot = Slot.COMMA_OR_END;
                return commaOrEnd(c, ws);
            }
            append(c);
            return Step.MORE;
        }
        if (ws) {
            return Step.MORE;
        }
        append(c);
        if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 1) {
            return endValue();
        }
        return Step.MORE;
    }

    private Step endValue() {
        slot = Slot.COMMA_OR_END;
        if (member.equals("name")) {
            name = decode(value);
            return name == null ? Step.MALFORMED : Step.MORE;
        }
        if (member.equals(argumentKeys.getFirst()) && kind == '"') {
            String text = decode(value);
            if (text == null) {
                return Step.MALFORMED;
            }
            arguments.append(text);
        }
        return Step.MORE;
    }

    private Step commaOrEnd(char c, boolean ws) {
        if (ws) {
            return Step.MORE;
        }
        if (c == ',') {
            slot = Slot.KEY;
            return Step.MORE;
        }
        return c == '}' ? Step.DONE : Step.MALFORMED;
    }

    /** Appends one character of the current value: to the arguments as they stream, else to the value text. */
    private void append(char c) {
        if (member.equals(argumentKeys.getFirst()) && kind == '{') {
            arguments.append(c);
        } else {
            value.append(c);
        }
    }

    /** Tracks escapes inside a string; true at its closing quote. */
    private boolean stringEnds(char c) {
        if (escape) {
            escape = false;
        } else if (c == '\\') {
            escape = true;
        } else if (c == '"') {
            inString = false;
            return true;
        }
        return false;
    }

    private static String decode(CharSequence quoted) {
        try {
            return JsonFields.JSON.readValue(quoted.toString(), String.class);
        } catch (JsonProcessingException e) {
            return null;
        }
    }
}
