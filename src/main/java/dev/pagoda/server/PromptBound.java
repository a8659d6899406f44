package dev.pagoda.server;

import dev.pagoda.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;

/**
 * Bounds the work a prompt can cost before it is refused. Every token covers at most {@code maxTokenBytes} bytes of
 * text (the longest vocabulary entry, and at least 4 for a character the vocabulary lacks), so a text longer than
 * {@code maxModelLen * maxTokenBytes} chars (each char at least one UTF-8 byte) has at least {@code maxModelLen}
 * tokens: it cannot fit, and is refused without being tokenized. Tokenizing is thereby bounded by the context, not
 * by what a client sends; the default body limit follows from the same bound.
 *
 * <p>The bound assumes a tokenizer that turns every input byte into some token (BPE and SentencePiece do); one that
 * drops input (WordPiece drops whitespace) may see a fitting prompt refused, with the limit named.
 */
final class PromptBound {
    /** Bodies may exceed one prompt's text: JSON escapes, several prompts or messages. */
    private static final int BODY_FACTOR = 8;
    private static final long MIN_BODY = 1L << 20;
    private static final long MAX_BODY = 64L << 20;

    private final Tokenizer tokenizer;
    private final int maxModelLen;
    private final long maxChars;

    PromptBound(Tokenizer tokenizer, int maxModelLen) {
        this.tokenizer = tokenizer;
        this.maxModelLen = maxModelLen;
        this.maxChars = (long) maxModelLen * maxTokenBytes(tokenizer);
    }

    static int maxTokenBytes(Tokenizer t) {
        int max = 4;
        for (int id = 0; id < t.vocabSize(); id++) {
            max = Math.max(max, Math.max(t.tokenBytes(id).length, t.piece(id).getBytes(StandardCharsets.UTF_8).length));
        }
        return max;
    }

    /** Chars past which a text surely has more tokens than the context. */
    long maxChars() {
        return maxChars;
    }

    int maxModelLen() {
        return maxModelLen;
    }

    /** The body limit when none is configured: room for a context's worth of text several times over, within [1, 64] MiB. */
    long defaultBodyBytes() {
        return Math.clamp(maxChars * BODY_FACTOR, MIN_BODY, MAX_BODY);
    }

    /** Tokenizes {@code text} unless it is surely longer than the context: then a 400 naming {@code param}, untokenized. */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial, String param) {
        if (text.length() > maxChars) {
            throw ApiException.promptTooLong("This model's maximum context length is " + maxModelLen + " tokens. However, your "
                    + param + " has " + text.length() + " characters, more than " + maxChars + " (the context times the longest "
                    + "token): it cannot fit, and was not tokenized.", param);
        }
        return tokenizer.encode(text, addSpecial, parseSpecial);
    }
}
