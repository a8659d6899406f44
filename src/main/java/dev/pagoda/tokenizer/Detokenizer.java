package dev.pagoda.tokenizer;

/**
 * Incremental decoding of one sequence: each call returns only the text that became complete, so a
 * multi-byte character split across byte-fallback tokens is emitted once, whole. Concatenating every
 * {@link #next} and the final {@link #flush} equals {@link Tokenizer#decode} of the same ids.
 * Not thread-safe; one per sequence.
 */
public final class Detokenizer {
    private final Vocabulary vocab;
    private final boolean skipSpecial;
    private final Utf8Stream utf8 = new Utf8Stream();
    private final StringBuilder delta = new StringBuilder(32);
    /** True until the first bytes are emitted, while the SentencePiece dummy-prefix space is still to drop. */
    private boolean stripSpace;

    Detokenizer(Vocabulary vocab, boolean skipSpecial, boolean stripLeadingSpace) {
        this.vocab = vocab;
        this.skipSpecial = skipSpecial;
        this.stripSpace = stripLeadingSpace;
    }

    /** Feeds one token; returns the newly completed text (often empty, never a broken character). */
    public String next(int tokenId) {
        delta.setLength(0);
        append(tokenId, delta);
        return delta.isEmpty() ? "" : delta.toString();
    }

    /** Ends the sequence: returns whatever is held back, an incomplete character as U+FFFD. */
    public String flush() {
        delta.setLength(0);
        utf8.finish(delta);
        return delta.isEmpty() ? "" : delta.toString();
    }

    void append(int tokenId, StringBuilder out) {
        vocab.checkId(tokenId);
        if (skipSpecial && vocab.isSpecial(tokenId)) {
            return;
        }
        byte[] bytes = vocab.bytes(tokenId);
        if (bytes.length == 0) {
            return;
        }
        int from = 0;
        if (stripSpace) {
            stripSpace = false;
            if (bytes[0] == ' ') {
                from = 1;
            }
        }
        utf8.append(bytes, from, bytes.length, out);
    }

    void finish(StringBuilder out) {
        utf8.finish(out);
    }
}
