package dev.pagoda.tokenizer;

import dev.pagoda.PagodaException;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before byte-level BPE. A family is a sequence of regexes applied in turn to every
 * piece so far; each match and each unmatched gap between matches becomes its own piece (the "isolated"
 * split). The regexes are llama.cpp's per {@code tokenizer.ggml.pre} value, with PCRE's Unicode {@code \s}.
 */
final class PreTokenizer {
    private static final String GPT2 =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
    /** The GPT-2 pattern as Hugging Face's ByteLevel pre-tokenizer writes it (a trailing {@code \\s+} alternative). */
    static final String GPT2_WITH_SPACES = GPT2 + "|\\s+";
    private static final String LLAMA3 =
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 =
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String CJK = "[一-龥ࠀ-一가-퟿]+";
    private static final String DEEPSEEK_LLM_LETTERS = "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-Ֆ"
            + "Ⴀ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳ"
            + "Ꙁ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+";

    // (The escaped characters above are Greek and letterlike symbols that Unicode normalization would fold
    // into other characters; escapes keep the ranges exactly as written.)

    private final List<Pattern> patterns;

    private PreTokenizer(String... regexes) {
        patterns = new ArrayList<>();
        for (String r : regexes) {
            patterns.add(Pattern.compile(r, Pattern.UNICODE_CHARACTER_CLASS));
        }
    }

    /** The split rules for a GGUF {@code tokenizer.ggml.pre} value; {@code file} names the source in errors. */
    static PreTokenizer forGguf(String pre, String file) {
        return switch (pre) {
            case "gpt-2", "mpt", "olmo", "jais" -> new PreTokenizer(GPT2);
            case "llama-bpe", "llama3", "dbrx", "smaug-bpe" -> new PreTokenizer(LLAMA3);
            case "qwen2", "stablelm2" -> new PreTokenizer(QWEN2);
            case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva" ->
                    new PreTokenizer("\\p{N}", GPT2);
            case "falcon" -> new PreTokenizer("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]");
            case "deepseek-coder" -> new PreTokenizer("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK, "\\p{N}");
            case "deepseek-llm" -> new PreTokenizer("[\r\n]", DEEPSEEK_LLM_LETTERS,
                    "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", CJK, "\\p{N}+");
            case "default" -> new PreTokenizer("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]");
            default -> throw new PagodaException("unsupported pre-tokenizer '" + pre + "' (tokenizer.ggml.pre) in " + file);
        };
    }

    /** Hugging Face rules: Split regexes and ByteLevel's GPT-2 pattern, applied in order. */
    static PreTokenizer ofRegexes(List<String> regexes) {
        return new PreTokenizer(regexes.toArray(String[]::new));
    }

    /** The words of {@code text}, in order; concatenated they give back the text. */
    List<String> split(String text) {
        List<int[]> spans = new ArrayList<>();
        spans.add(new int[] {0, text.length()});
        for (Pattern p : patterns) {
            List<int[]> next = new ArrayList<>(spans.size() * 2);
            Matcher m = p.matcher(text);
            for (int[] span : spans) {
                int from = span[0];
                m.region(span[0], span[1]);
                while (m.find()) {
                    if (m.end() == m.start()) {
                        continue;
                    }
                    if (m.start() > from) {
                        next.add(new int[] {from, m.start()});
                    }
                    next.add(new int[] {m.start(), m.end()});
                    from = m.end();
                }
                if (from < span[1]) {
                    next.add(new int[] {from, span[1]});
                }
            }
            spans = next;
        }
        List<String> words = new ArrayList<>(spans.size());
        for (int[] s : spans) {
            words.add(text.substring(s[0], s[1]));
        }
        return words;
    }
}
