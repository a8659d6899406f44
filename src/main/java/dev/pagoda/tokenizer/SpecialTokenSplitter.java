package dev.pagoda.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts whole special/added token texts out of the input before the model tokenizes the rest (llama.cpp's
 * partition step): longest token text first, every occurrence left to right; text between them stays raw.
 * (Hugging Face matches all added tokens in one leftmost-longest pass; the two differ only for added tokens
 * that overlap each other.)
 */
final class SpecialTokenSplitter {
    /** One matchable token text; {@code always} ones split even without parseSpecial (user-defined/non-special). */
    record Entry(String text, int id, boolean always) {
    }

    /** A raw-text span {@code [start, end)} of the input, or (token >= 0) one special token. */
    record Fragment(int start, int end, int token) {
        boolean isText() {
            return token < 0;
        }
    }

    private final Entry[] entries;

    SpecialTokenSplitter(List<Entry> entries) {
        this.entries = entries.stream().filter(e -> !e.text().isEmpty())
                .sorted(Comparator.comparingInt((Entry e) -> -e.text().length()).thenComparingInt(Entry::id))
                .toArray(Entry[]::new);
    }

    /** Control, unknown and user-defined tokens of a vocabulary, as llama.cpp partitions them. */
    static SpecialTokenSplitter of(Vocabulary vocab) {
        List<Entry> entries = new ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) {
            TokenType t = vocab.type(id);
            if (t.splitsInput(true)) {
                entries.add(new Entry(vocab.piece(id), id, t.splitsInput(false)));
            }
        }
        return new SpecialTokenSplitter(entries);
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(new Fragment(0, text.length(), -1));
        for (Entry e : entries) {
            if (!parseSpecial && !e.always()) {
                continue;
            }
            String special = e.text();
            List<Fragment> out = null;
            for (int f = 0; f < fragments.size(); f++) {
                Fragment frag = fragments.get(f);
                int at = frag.isText() ? indexOf(text, special, frag.start(), frag.end()) : -1;
                if (at < 0) {
                    if (out != null) {
                        out.add(frag);
                    }
                    continue;
                }
                if (out == null) {
                    out = new ArrayList<>(fragments.subList(0, f));
                }
                int from = frag.start();
                while (at >= 0) {
                    if (at > from) {
                        out.add(new Fragment(from, at, -1));
                    }
                    out.add(new Fragment(at, at + special.length(), e.id()));
                    from = at + special.length();
                    at = indexOf(text, special, from, frag.end());
                }
                if (from < frag.end()) {
                    out.add(new Fragment(from, frag.end(), -1));
                }
            }
            if (out != null) {
                fragments = out;
            }
        }
        return fragments;
    }

    private static int indexOf(String text, String needle, int from, int end) {
        int at = text.indexOf(needle, from);
        return at >= 0 && at + needle.length() <= end ? at : -1;
    }
}
