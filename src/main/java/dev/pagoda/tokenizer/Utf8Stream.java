package dev.pagoda.tokenizer;

/**
 * Incremental UTF-8 to UTF-16 decoding that never emits half a character: an incomplete sequence is held
 * until its last byte arrives; bytes known to be invalid become one U+FFFD per maximal invalid subpart
 * (the Unicode / WHATWG replacement rule, the same as Python's {@code errors="replace"}).
 */
final class Utf8Stream {
    private static final char REPLACEMENT = '\uFFFD';

    private int codePoint;
    /** Bytes still expected to complete the current sequence; 0 when between characters. */
    private int remaining;
    /** Valid range of the next continuation byte (narrower for the second byte of E0, ED, F0, F4 sequences). */
    private int low = 0x80;
    private int high = 0xBF;

    void append(byte[] bytes, int from, int to, StringBuilder out) {
        for (int i = from; i < to; i++) {
            accept(bytes[i] & 0xFF, out);
        }
    }

    private void accept(int b, StringBuilder out) {
        if (remaining > 0) {
            if (b >= low && b <= high) {
                codePoint = (codePoint << 6) | (b & 0x3F);
                low = 0x80;
                high = 0xBF;
                if (--remaining == 0) {
                    out.appendCodePoint(codePoint);
                }
                return;
            }
            // The sequence broke off: replace what was collected, then read b as a new start.
            out.append(REPLACEMENT);
            remaining = 0;
            low = 0x80;
            high = 0xBF;
        }
        if (b < 0x80) {
            out.append((char) b);
        } else if (b >= 0xC2 && b <= 0xDF) {
            start(b & 0x1F, 1, 0x80, 0xBF);
        } else if (b >= 0xE0 && b <= 0xEF) {
            start(b & 0x0F, 2, b == 0xE0 ? 0xA0 : 0x80, b == 0xED ? 0x9F : 0xBF);
        } else if (b >= 0xF0 && b <= 0xF4) {
            start(b & 0x07, 3, b == 0xF0 ? 0x90 : 0x80, b == 0xF4 ? 0x8F : 0xBF);
        } else {
            out.append(REPLACEMENT);
        }
    }

    private void start(int bits, int more, int lo, int hi) {
        codePoint = bits;
        remaining = more;
        low = lo;
        high = hi;
    }

    /** Ends the stream: an incomplete trailing sequence is invalid. */
    void finish(StringBuilder out) {
        if (remaining > 0) {
            out.append(REPLACEMENT);
            remaining = 0;
            low = 0x80;
            high = 0xBF;
        }
    }
}
