package dev.pagoda.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts whole special/user-defined token texts out of the input before the model tokenizes the rest (llama.cpp's
 * partition step): longest token text first, every occurrence left to right; text between them stays raw.
 */
final class SpecialTokenSplitter {
    /** A raw-text span {@code [start, end)} of the input, or (token >= 0) one special token. */
    record Fragment(int start, int end, int token) {
        boolean isText() {
            return token < 0;
        }
    }

    private final Vocabulary vocab;
    private final int[] candidates;

    SpecialTokenSplitter(Vocabulary vocab) {
        this.vocab = vocab;
        List<Integer> ids = new ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) {
            TokenType t = vocab.type(id);
            if (t.splitsInput(true) && !vocab.piece(id).isEmpty()) {
                ids.add(id);
            }
        }
        ids.sort(Comparator.comparingInt((Integer id) -> -vocab.piece(id).length()).thenComparingInt(id -> id));
        candidates = ids.stream().mapToInt(Integer::intValue).toArray();
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(new Fragment(0, text.length(), -1));
        for (int id : candidates) {
            if (!vocab.type(id).splitsInput(parseSpecial)) {
                continue;
            }
            String special = vocab.piece(id);
            List<Fragment> out = null;
            for (int f = 0; f < fragments.size(); f++) {
                Fragment frag = fragments.get(f);
                int at = frag.isText() ? indexOf(text, special, frag.start, frag.end) : -1;
                if (at < 0) {
                    if (out != null) {
                        out.add(frag);
                    }
                    continue;
                }
                if (out == null) {
                    out = new ArrayList<>(fragments.subList(0, f));
                }
                int from = frag.start;
                while (at >= 0) {
                    if (at > from) {
                        out.add(new Fragment(from, at, -1));
                    }
                    out.add(new Fragment(at, at + special.length(), id));
                    from = at + special.length();
                    at = indexOf(text, special, from, frag.end);
                }
                if (from < frag.end) {
                    out.add(new Fragment(from, frag.end, -1));
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
