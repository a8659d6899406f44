package dev.pagoda.cli;

import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/** The known name closest to a mistyped one (fewest single-character edits), for "did you mean" answers. */
final class DidYouMean {
    private DidYouMean() {
    }

    /** The candidate nearest {@code typed} ({@code --opt=value} compares {@code --opt}), if one is near enough to be a typo. */
    static Optional<String> closest(String typed, Collection<String> candidates) {
        String word = typed.contains("=") ? typed.substring(0, typed.indexOf('=')) : typed;
        return candidates.stream().min(Comparator.comparingInt((String c) -> edits(word, c)).thenComparing(Comparator.naturalOrder()))
                .filter(c -> edits(word, c) <= Math.max(2, word.length() / 3));
    }

    /** Levenshtein distance, one row at a time. */
    static int edits(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] row = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            row[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                row[j] = Math.min(sub, Math.min(prev[j], row[j - 1]) + 1);
            }
            int[] t = prev;
            prev = row;
            row = t;
        }
        return prev[b.length()];
    }
}
