package dev.pagoda.bench;

import java.io.PrintWriter;

/** A one-line progress bar on a terminal stream, redrawn in place; thread-safe. */
public final class ProgressBar {
    private static final int WIDTH = 40;
    private final PrintWriter out;
    private final String label;
    private final int total;
    private final long start = System.nanoTime();
    private int done;

    public ProgressBar(PrintWriter out, String label, int total) {
        this.out = out;
        this.label = label;
        this.total = total;
        draw();
    }

    public synchronized void step() {
        done++;
        draw();
        if (done == total) {
            out.println();
            out.flush();
        }
    }

    private void draw() {
        int filled = total == 0 ? WIDTH : done * WIDTH / total;
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf("\r%s [%s%s] %d/%d %.1fs", label, "#".repeat(filled), ".".repeat(WIDTH - filled), done, total, seconds);
        out.flush();
    }
}
