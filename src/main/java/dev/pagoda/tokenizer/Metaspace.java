package dev.pagoda.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The Metaspace pre-tokenizer: spaces become the replacement character, which is prepended always, only
 * at the very start of the input ("first"), or never; with split, each replacement character starts a word.
 */
record Metaspace(String replacement, String prependScheme, boolean split) {
    List<String> words(String text, boolean atInputStart) {
        String s = text.replace(" ", replacement);
        boolean prepend = prependScheme.equals("always") || (prependScheme.equals("first") && atInputStart);
        if (prepend && !s.startsWith(replacement)) {
            s = replacement + s;
        }
        if (!split) {
            return List.of(s);
        }
        List<String> words = new ArrayList<>();
        int start = 0;
        for (int at = s.indexOf(replacement, 1); at > 0; at = s.indexOf(replacement, at + 1)) {
            words.add(s.substring(start, at));
            start = at;
        }
        if (start < s.length()) {
            words.add(s.substring(start));
        }
        return words;
    }
}
