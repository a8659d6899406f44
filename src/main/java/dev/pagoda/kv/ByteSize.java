package dev.pagoda.kv;

import dev.pagoda.PagodaException;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses memory sizes as users write them: plain bytes ({@code 1048576}), decimal units
 * ({@code KB, MB, GB, TB}: powers of 1000) and binary units ({@code KiB, MiB, GiB, TiB}: powers of 1024),
 * with an optional fraction ({@code 1.5GB}). Units are case-insensitive; a fractional result is rounded down.
 */
public final class ByteSize {
    private static final Pattern SIZE = Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*([a-zA-Z]*)\\s*");
    private static final String EXPECTED =
            "expected a number with an optional unit B, KB, MB, GB, TB, KiB, MiB, GiB, TiB (e.g. 512MiB, 1.5GB, 4096)";

    private ByteSize() {
    }

    /** The number of bytes {@code text} denotes; a {@link PagodaException} naming the text otherwise. */
    public static long parse(String text) {
        if (text == null) {
            throw new PagodaException("missing byte size: " + EXPECTED);
        }
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new PagodaException("invalid byte size '" + text + "': " + EXPECTED);
        }
        long unit = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "b" -> 1L;
            case "kb" -> 1_000L;
            case "mb" -> 1_000_000L;
            case "gb" -> 1_000_000_000L;
            case "tb" -> 1_000_000_000_000L;
            case "kib" -> 1L << 10;
            case "mib" -> 1L << 20;
            case "gib" -> 1L << 30;
            case "tib" -> 1L << 40;
            default -> throw new PagodaException(
                    "invalid byte size '" + text + "': unknown unit '" + m.group(2) + "', " + EXPECTED);
        };
        BigDecimal bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit));
        if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new PagodaException("invalid byte size '" + text + "': too large");
        }
        return bytes.longValue();
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
