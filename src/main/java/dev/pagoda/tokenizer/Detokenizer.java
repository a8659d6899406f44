package dev.pagoda.tokenizer;

/**
 * Incremental decoding of one sequence: each call returns only the text that became complete, so a
 * multi-byte character split across byte-fallback tokens is emitted once, whole. Concatenating every
 * {@link #next} and the final {@link #flush} equals {@link Tokenizer#decode} of the same ids.
 * Not thread-safe; one per sequence.
 */
public final class Detokenizer {
    /** What decoding does with the spaces that start a sequence (SentencePiece's dummy prefix). */
    enum LeadingSpace {
        /** Byte-level BPE: spaces are text. */
        KEEP,
        /** llama.cpp, llama2.c and Hugging Face's Strip decoder: drop one space at the very start of the text. */
        STRIP_ONE,
        /** Hugging Face's Metaspace decoder: the first decoded token loses every space it has. */
        DROP_IN_FIRST_TOKEN
    }

    private final Vocabulary vocab;
    private final boolean skipSpecial;
    private final Utf8Stream utf8 = new Utf8Stream();
    private final StringBuilder delta = new StringBuilder(32);
    /** The rule still to apply; becomes KEEP once it has been applied. */
    private LeadingSpace leading;

    Detokenizer(Vocabulary vocab, boolean skipSpecial, LeadingSpace leading) {
        this.vocab = vocab;
        this.skipSpecial = skipSpecial;
        this.leading = leading;
    }

    /** Feeds one token; returns the newly completed text (often empty, never a broken character). */
    public String next(int tokenId) {
        delta.setLength(0);
        append(tokenId, delta);
        return delta.isEmpty() ? "" : delta.toString();
    }

    /** As {@link #next}, but appends the completed text to {@code out} (no string per token). */
    public void appendNext(int tokenId, StringBuilder out) {
        append(tokenId, out);
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
        switch (leading) {
            case KEEP -> utf8.append(bytes, 0, bytes.length, out);
            case STRIP_ONE -> {
                if (bytes.length > 0) {
                    leading = LeadingSpace.KEEP;
                    int from = bytes[0] == ' ' ? 1 : 0;
                    utf8.append(bytes, from, bytes.length, out);
                }
            }
            case DROP_IN_FIRST_TOKEN -> {
                leading = LeadingSpace.KEEP;
                for (int i = 0; i < bytes.length; i++) {
                    if (bytes[i] != ' ') {
                        utf8.append(bytes, i, i + 1, out);
                    }
                }
            }
        }
    }

    void finish(StringBuilder out) {
        utf8.finish(out);
    }
}
