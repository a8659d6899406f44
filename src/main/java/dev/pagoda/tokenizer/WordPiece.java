package dev.pagoda.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * BERT's WordPiece: basic pre-tokenization (drop control characters, strip accents, lowercase, split on
 * whitespace, punctuation and CJK ideographs), then greedy longest-match-first per word. The GGUF vocabulary
 * marks word-initial pieces with a leading U+2581 and stores "##" continuations bare, so a word is matched
 * as "\u2581word" from its start; a word with any unmatched rest becomes the unknown token.
 */
final class WordPiece extends VocabTokenizer {
    private final int unk;
    private final int maxTokenChars;

    WordPiece(Vocabulary vocab, int cls, int sep, int unk) {
        super(vocab, cls, sep, true, true, Detokenizer.LeadingSpace.STRIP_ONE);
        this.unk = unk;
        int max = 0;
        for (int i = 0; i < vocab.size(); i++) {
            max = Math.max(max, vocab.piece(i).length());
        }
        this.maxTokenChars = max;
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        for (String word : words(text)) {
            String w = SentencePieceBpe.SPACE_MARKER + word;
            IntList pieces = new IntList(8);
            boolean whole = true;
            for (int i = 0; i < w.length() && whole; ) {
                whole = false;
                for (int j = Math.min(w.length(), i + maxTokenChars); j > i; j--) {
                    int id = vocab.id(w.substring(i, j));
                    if (id >= 0) {
                        pieces.add(id);
                        i = j;
                        whole = true;
                        break;
                    }
                }
            }
            if (whole) {
                for (int k = 0; k < pieces.size(); k++) {
                    out.add(pieces.get(k));
                }
            } else {
                out.add(unk);
            }
        }
    }

    /** BERT's basic tokenizer (Hugging Face BertNormalizer + BertPreTokenizer with lowercase and accent stripping). */
    static List<String> words(String text) {
        String decomposed = Normalizer.normalize(text, Normalizer.Form.NFD);
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (int i = 0; i < decomposed.length(); ) {
            int cp = decomposed.codePointAt(i);
            i += Character.charCount(cp);
            if (isWhitespace(cp)) {
                flush(word, words);
                continue;
            }
            int type = Character.getType(cp);
            if (cp == 0 || cp == 0xFFFD || isOther(type) || type == Character.NON_SPACING_MARK) {
                continue;
            }
            if (isPunctuation(cp, type) || isCjk(cp)) {
                flush(word, words);
                words.add(Character.toString(cp).toLowerCase(Locale.ROOT));
            } else {
                word.append(Character.toString(cp).toLowerCase(Locale.ROOT));
            }
        }
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (!word.isEmpty()) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    /** Unicode White_Space (what Rust's char::is_whitespace tests). */
    static boolean isWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    private static boolean isOther(int type) {
        return type == Character.CONTROL || type == Character.FORMAT || type == Character.SURROGATE
                || type == Character.PRIVATE_USE || type == Character.UNASSIGNED;
    }

    /** ASCII punctuation and symbols, plus every Unicode punctuation category. */
    private static boolean isPunctuation(int cp, int type) {
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
            return true;
        }
        return type == Character.CONNECTOR_PUNCTUATION || type == Character.DASH_PUNCTUATION
                || type == Character.START_PUNCTUATION || type == Character.END_PUNCTUATION
                || type == Character.INITIAL_QUOTE_PUNCTUATION || type == Character.FINAL_QUOTE_PUNCTUATION
                || type == Character.OTHER_PUNCTUATION;
    }

    /** The CJK Unified Ideograph blocks BERT splits into single-character words. */
    private static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }
}
