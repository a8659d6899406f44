package dev.pagoda.kv;

import dev.pagoda.PagodaException;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses memory sizes as users write them: decimal units ({@code KB, MB, GB, TB}: powers of 1000), binary units
 * ({@code KiB, MiB, GiB, TiB}: powers of 1024, and the one-letter {@code K, M, G, T} as in {@code -Xmx4g}), with an
 * optional fraction ({@code 1.5GB}). A bare number is bytes, or the unit a caller names (vLLM's {@code --swap-space}
 * counts GiB). Units are case-insensitive; a fractional result is rounded down.
 */
public final class ByteSize {
    private static final Pattern SIZE = Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*([a-zA-Z]*)\\s*");
    private static final String EXPECTED =
            "expected a number with an optional unit B, KB, MB, GB, TB, KiB, MiB, GiB, TiB, K, M, G, T (e.g. 512MiB, 4G, 1.5GB)";

    private ByteSize() {
    }

    /** The number of bytes {@code text} denotes, a bare number being bytes; a {@link PagodaException} naming the text otherwise. */
    public static long parse(String text) {
        return parse(text, 1);
    }

    /** As {@link #parse(String)}, a bare number counting {@code bareUnit} bytes. */
    public static long parse(String text, long bareUnit) {
        if (text == null) {
            throw new PagodaException("missing byte size: " + EXPECTED);
        }
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new PagodaException("invalid byte size '" + text + "': " + EXPECTED);
        }
        long unit = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "" -> bareUnit;
            case "b" -> 1L;
            case "kb" -> 1_000L;
            case "mb" -> 1_000_000L;
            case "gb" -> 1_000_000_000L;
            case "tb" -> 1_000_000_000_000L;
            case "kib", "k" -> 1L << 10;
            case "mib", "m" -> 1L << 20;
            case "gib", "g" -> 1L << 30;
            case "tib", "t" -> 1L << 40;
            default -> throw new PagodaException(
                    "invalid byte size '" + text + "': unknown unit '" + m.group(2) + "', " + EXPECTED);
        };
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit));
        if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new PagodaException("invalid byte size '" + text + "': too large");
        }
        return bytes.longValue();
    }

    /** The exact form {@link #parse} reads back: the largest binary unit that divides the size ({@code 1GiB}, {@code 1536MiB}, {@code 100B}). */
    public static String exact(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        while (u < units.length - 1 && bytes != 0 && bytes % (1L << (10 * (u + 1))) == 0) {
            u++;
        }
        return (bytes >> (10 * u)) + units[u];
    }

    /** A short human form, binary units: {@code 12.0 GiB}. */
    public static String format(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
