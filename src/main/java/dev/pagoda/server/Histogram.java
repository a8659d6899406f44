package dev.pagoda.server;

import java.util.Locale;

/** A Prometheus histogram with fixed upper bounds (seconds), thread-safe, rendered in the text format. */
final class Histogram {
    private final String name;
    private final String help;
    private final double[] bounds;
    private final long[] counts;
    private long count;
    private double sum;

    Histogram(String name, String help, double... bounds) {
        this.name = name;
        this.help = help;
        this.bounds = bounds.clone();
        this.counts = new long[bounds.length];
    }

    synchronized void observe(double v) {
        for (int i = 0; i < bounds.length; i++) {
            if (v <= bounds[i]) {
                counts[i]++;
            }
        }
        count++;
        sum += v;
    }

    synchronized long count() {
        return count;
    }

    synchronized void render(StringBuilder out, String labels) {
        render(out, name, help, bounds, counts, count, sum, labels);
    }

    /** A histogram in the text format from cumulative bucket counts ({@code cumulative[i]}: observations <= bounds[i]). */
    static void render(StringBuilder out, String name, String help, double[] bounds, long[] cumulative, long count, double sum,
                       String labels) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" histogram\n");
        for (int i = 0; i < bounds.length; i++) {
            out.append(name).append("_bucket{").append(labels).append(",le=\"").append(number(bounds[i])).append("\"} ")
                    .append(cumulative[i]).append('\n');
        }
        out.append(name).append("_bucket{").append(labels).append(",le=\"+Inf\"} ").append(count).append('\n');
        out.append(name).append("_sum{").append(labels).append("} ").append(number(sum)).append('\n');
        out.append(name).append("_count{").append(labels).append("} ").append(count).append('\n');
    }

    static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) + ".0" : String.format(Locale.ROOT, "%s", v);
    }
}
