package dev.pagoda.cli;

import java.util.Arrays;
import java.util.Locale;

/**
 * When the tokens of one streamed completion arrived, to tell the warm-up (the first tokens, while the JIT
 * compiles the kernels) from the steady decode rate: the rate over the second half of the tokens.
 */
final class DecodePace {
    private long[] nanos = new long[64];
    private int tokens;

    /** Records that {@code n} more tokens arrived now. */
    void arrived(int n) {
        long now = System.nanoTime();
        for (int k = 0; k < n; k++) {
            if (tokens == nanos.length) {
                nanos = Arrays.copyOf(nanos, tokens * 2);
            }
            nanos[tokens++] = now;
        }
    }

    /** Tokens per second from the middle token to the last; 0 with too few tokens to tell. */
    double steadyTokensPerSecond() {
        int from = tokens / 2;
        long span = tokens < 8 ? 0 : nanos[tokens - 1] - nanos[from];
        return span <= 0 ? 0 : (tokens - 1 - from) * 1e9 / span;
    }

    /** {@code ", steady: 118.2 tok/s (last 30 tokens)"}, or nothing with too few tokens to tell. */
    String steadySummary() {
        double rate = steadyTokensPerSecond();
        return rate == 0 ? "" : String.format(Locale.ROOT, " (steady: %.1f tok/s over the last %d tokens)", rate, tokens - 1 - tokens / 2);
    }
}
