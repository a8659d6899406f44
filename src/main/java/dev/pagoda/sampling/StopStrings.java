package dev.pagoda.sampling;

import java.util.List;

/**
 * Incremental stop-string matching over a detokenized text stream. Each {@link #next} returns the text
 * that is safe to emit: everything except the shortest tail that could still grow into a stop string
 * (nothing is held back when the stop string is to be included, as vLLM does). When a stop string
 * completes, the text ends before it (or after it, with include_stop_str_in_output) and anything after
 * is dropped. Among several stop strings the one completed first in the stream wins (on the same last
 * character, the one starting earlier), so the result does not depend on how text is split into deltas.
 *
 * <p>Only a window of the last (longest stop - 1) characters plus the not yet emitted text is kept, so
 * each call costs O(window x stop strings), independent of the text generated so far. Strings are
 * UTF-16; a surrogate pair is never split between two emitted pieces. Not thread-safe; one per sample.
 */
public final class StopStrings {
    private final String[] stops;
    private final boolean includeStop;
    /** Characters before new text that a match may still start in: longest stop length - 1. */
    private final int overlap;
    private final StringBuilder window = new StringBuilder();
    /** window[0, emitted) was returned already. */
    private int emitted;
    private String matched;
    private boolean finished;

    /** @param stops non-empty stop strings (SamplingParams.stop()); none makes this a pass-through */
    public StopStrings(List<String> stops, boolean includeStopStrInOutput) {
        this.stops = stops.toArray(String[]::new);
        this.includeStop = includeStopStrInOutput;
        int longest = 0;
        for (String s : this.stops) {
            longest = Math.max(longest, s.length());
        }
        this.overlap = Math.max(0, longest - 1);
    }

    /** Whether there are no stop strings: {@link #next} returns its argument. */
    public boolean passThrough() {
        return stops.length == 0;
    }

    /**
     * Feeds the next text delta; returns the text to emit now (possibly empty). After a stop string
     * completes, {@link #stopped()} is true, this call's result is the last text, and later calls
     * return "".
     */
    public String next(String delta) {
        if (finished) {
            return "";
        }
        if (stops.length == 0) {
            return delta;
        }
        int before = window.length();
        window.append(delta);
        int bestStart = -1, bestEnd = Integer.MAX_VALUE;
        for (String s : stops) {
            // Earlier matches would have ended generation already: look only at ones ending in delta.
            int at = window.indexOf(s, Math.max(0, before - s.length() + 1));
            int end = at + s.length();
            if (at >= 0 && (end < bestEnd || (end == bestEnd && at < bestStart))) {
                bestStart = at;
                bestEnd = end;
                matched = s;
            }
        }
        if (matched != null) {
            finished = true;
            return take(includeStop ? bestEnd : bestStart);
        }
        int safe = includeStop ? window.length() : window.length() - partialStopLength();
        if (safe > emitted && Character.isHighSurrogate(window.charAt(safe - 1))) {
            safe--;
        }
        String out = take(safe);
        int drop = Math.min(emitted, window.length() - overlap);
        if (drop > 0) {
            window.delete(0, drop);
            emitted -= drop;
        }
        return out;
    }

    /** Ends the stream for another reason (EOS, length): returns the held-back text, or "" after a stop. */
    public String flush() {
        if (finished) {
            return "";
        }
        finished = true;
        return take(window.length());
    }

    /** True once a stop string has completed. */
    public boolean stopped() {
        return matched != null;
    }

    /** The stop string that ended the text (vLLM's stop_reason), or null. */
    public String matched() {
        return matched;
    }

    private String take(int to) {
        if (to <= emitted) {
            return "";
        }
        String out = window.substring(emitted, to);
        emitted = to;
        return out;
    }

    /** Length of the longest tail of the window that is a proper prefix of some stop string. */
    private int partialStopLength() {
        int len = window.length();
        for (int k = Math.min(overlap, len - emitted); k > 0; k--) {
            for (String s : stops) {
                if (s.length() > k && isPrefix(s, len - k, k)) {
                    return k;
                }
            }
        }
        return 0;
    }

    private boolean isPrefix(String stop, int from, int k) {
        for (int i = 0; i < k; i++) {
            if (window.charAt(from + i) != stop.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
