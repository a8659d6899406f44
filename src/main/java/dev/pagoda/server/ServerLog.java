package dev.pagoda.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.PagodaException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The server's log: one line per event, below a level, as text or JSON. An event is a logger name ({@code server},
 * {@code access}, {@code stats}), a message and named fields. Text lines read
 * {@code INFO 12-02 16:30:01.123 [access] request_id=... status=200 ...} (fields as key=value, quoted when they hold
 * spaces, {@code -} for none); JSON lines are one object with {@code time} (UTC), {@code level}, {@code logger},
 * {@code message} and the fields as typed values. Lines go whole to the sink (stderr for {@code pagoda serve}), so
 * lines of concurrent requests never interleave. Thread-safe.
 */
public final class ServerLog {
    /** Severity, most severe first: a log at level L writes L and everything above it. */
    public enum Level {
        ERROR, WARN, INFO, DEBUG;

        /** error, warn (or warning), info or debug, any case. */
        public static Level parse(String name) {
            String n = name.trim().toUpperCase(Locale.ROOT);
            if (n.equals("WARNING")) {
                return WARN;
            }
            for (Level l : values()) {
                if (l.name().equals(n)) {
                    return l;
                }
            }
            throw new PagodaException("--log-level must be error, warn, info or debug, got '" + name + "'");
        }
    }

    /** Human-readable key=value text, or one JSON object per line for log collectors. */
    public enum Format {
        TEXT, JSON;

        public static Format parse(String name) {
            return switch (name.trim().toLowerCase(Locale.ROOT)) {
                case "text" -> TEXT;
                case "json" -> JSON;
                default -> throw new PagodaException("--log-format must be text or json, got '" + name + "'");
            };
        }
    }

    private static final DateTimeFormatter TEXT_TIME = DateTimeFormatter.ofPattern("MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    private final Level level;
    private final Format format;
    private final Consumer<String> sink;

    public ServerLog(Level level, Format format, Consumer<String> sink) {
        this.level = level;
        this.format = format;
        this.sink = sink;
    }

    /** Lines to standard error. */
    public static ServerLog stderr(Level level, Format format) {
        return new ServerLog(level, format, System.err::println);
    }

    public boolean enabled(Level l) {
        return l.compareTo(level) <= 0;
    }

    public void error(String message) {
        log(Level.ERROR, "server", message, Map.of());
    }

    public void warn(String message) {
        log(Level.WARN, "server", message, Map.of());
    }

    public void info(String message) {
        log(Level.INFO, "server", message, Map.of());
    }

    /** One event; {@code fields} in the order to write them (values: strings, numbers, booleans or null). */
    public void log(Level l, String logger, String message, Map<String, ?> fields) {
        if (!enabled(l)) {
            return;
        }
        Instant now = Instant.now();
        sink.accept(format == Format.JSON ? json(now, l, logger, message, fields) : text(now, l, logger, message, fields));
    }

    private static String text(Instant now, Level l, String logger, String message, Map<String, ?> fields) {
        StringBuilder sb = new StringBuilder(160);
        sb.append(l.name()).append(' ').append(TEXT_TIME.format(now)).append(" [").append(logger).append(']');
        if (!message.isEmpty()) {
            sb.append(' ').append(message);
        }
        for (Map.Entry<String, ?> f : fields.entrySet()) {
            sb.append(' ').append(f.getKey()).append('=');
            Object v = f.getValue();
            String s = v == null ? "-" : v instanceof Double d ? String.format(Locale.ROOT, "%.3f", d) : v.toString();
            if (s.isEmpty() || s.indexOf(' ') >= 0 || s.indexOf('"') >= 0) {
                sb.append('"').append(s.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            } else {
                sb.append(s);
            }
        }
        return sb.toString();
    }

    private static String json(Instant now, Level l, String logger, String message, Map<String, ?> fields) {
        ObjectNode o = JsonFields.JSON.createObjectNode();
        o.put("time", now.toString());
        o.put("level", l.name().toLowerCase(Locale.ROOT));
        o.put("logger", logger);
        if (!message.isEmpty()) {
            o.put("message", message);
        }
        for (Map.Entry<String, ?> f : fields.entrySet()) {
            if (f.getValue() instanceof Double d) {
                // Milliseconds and tenths of a percent are precision enough; the text form shows the same.
                o.put(f.getKey(), Math.round(d * 1000) / 1000.0);
            } else {
                o.putPOJO(f.getKey(), f.getValue());
            }
        }
        return JsonFields.write(o);
    }
}
