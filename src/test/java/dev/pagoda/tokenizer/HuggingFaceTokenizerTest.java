package dev.pagoda.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.pagoda.PagodaException;
import dev.pagoda.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** TinyStories-656K's tokenizer.json against the Hugging Face tokenizers library itself (through DJL). */
class HuggingFaceTokenizerTest {
    private static final Path MODEL = TestData.path("models/TinyStories-656K");
    private static HuggingFaceTokenizer oracle;
    private static Tokenizer tok;

    @BeforeAll
    static void load() throws IOException {
        oracle = HuggingFaceTokenizer.newInstance(MODEL.resolve("tokenizer.json"), Map.of());
        tok = Tokenizers.fromHuggingFace(MODEL);
    }

    @AfterAll
    static void close() {
        oracle.close();
    }

    private static final String[] HAND_WRITTEN = {
        "", " ", "  ", "\t", "\n", "\n\n", " \n ", "Once upon a time, there was a little girl named Lily.",
        " Once upon a time", "Once  upon   a    time", "Hello world!", "Tom said, \"Let's play!\"",
        "<|start_story|>Once upon a time", "<|start_story|> Once upon a time<|end_story|>",
        "Hello<|end_story|>world", "Hello <|end_story|> world", "<unk>", "a<unk>b", "<|start_story|><|start_story|>",
        "<|start_story", "3.14159 and 1,000,000", "x = f(y) + g[z]; // code\n\tif (a < b) { return a; }",
        "Führer café naïve", "e\u0301 combining", "日本語のテキスト", "中文字符", "한국어", "нещо на Български",
        "🚀 (normal) 😶\u200d🌫️ ✅ 🦙", "emoji at end 😀", "\u00a0non-breaking\u3000ideographic space",
        "tabs\tand\ttabs", "CRLF\r\nline", "!!!!!!??????......", "'''''```````\"\"\"\"", "ied 4 ½ months",
        "The end.", "Lily and Ben were best friends. They liked to play in the park.",
    };

    private static final String[] POOL = {
        "Once", "upon", "a", "time", "Lily", "Ben", "Tom", "the", "dog", "park", "happy", "sad", "ball", "tree",
        "said", "wanted", "play", ".", ",", "!", "?", "\"", "'", "-", ":", ";", "(", ")", "[", "]", "{", "}",
        " ", "  ", "   ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "0", "7", "42", "1999", "3.5", "½", "²",
        "é", "ü", "ñ", "ß", "e\u0301", "a\u0308", "ø", "Ω", "λ", "日本", "中文", "語", "한국", "Привет", "مرحبا",
        "🦙", "😀", "😶\u200d🌫️", "👍🏽", "🇺🇸", "✅", "→", "∑", "€", "<", ">", "|", "<|start_story|>",
        "<|end_story|>", "<unk>", "def f(x):", "return x + 1", "i++", "a=b", "#include", "@user", "www.x.com",
    };

    /** At least 200 varied strings: the hand-written ones plus seeded random compositions. */
    static List<String> corpus() {
        List<String> corpus = new ArrayList<>(Arrays.asList(HAND_WRITTEN));
        Random random = new Random(1234);
        while (corpus.size() < 260) {
            StringBuilder sb = new StringBuilder();
            int parts = 1 + random.nextInt(12);
            for (int i = 0; i < parts; i++) {
                if (random.nextInt(8) == 0) {
                    sb.appendCodePoint(randomCodePoint(random));
                } else {
                    sb.append(POOL[random.nextInt(POOL.length)]);
                }
                if (random.nextInt(3) == 0) {
                    sb.append(' ');
                }
            }
            corpus.add(sb.toString());
        }
        return corpus;
    }

    private static int randomCodePoint(Random random) {
        int[][] ranges = {{0x20, 0x7E}, {0xA0, 0x24F}, {0x300, 0x36F}, {0x400, 0x4FF}, {0x4E00, 0x9FFF},
                {0xAC00, 0xD7A3}, {0x1F300, 0x1F6FF}, {0x2000, 0x206F}};
        int[] r = ranges[random.nextInt(ranges.length)];
        return r[0] + random.nextInt(r[1] - r[0] + 1);
    }

    private static int[] ints(long[] ids) {
        return Arrays.stream(ids).mapToInt(Math::toIntExact).toArray();
    }

    private static long[] longs(int[] ids) {
        return Arrays.stream(ids).asLongStream().toArray();
    }

    @Test
    void encodesLikeTheReferenceLibrary() {
        List<String> corpus = corpus();
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(200);
        List<String> failures = new ArrayList<>();
        for (String s : corpus) {
            for (boolean special : new boolean[] {true, false}) {
                int[] expected = ints(oracle.encode(s, special, false).getIds());
                int[] actual = tok.encode(s, special, true);
                if (!Arrays.equals(expected, actual)) {
                    failures.add("\"" + s + "\" special=" + special + "\n  expected " + Arrays.toString(expected)
                            + "\n  actual   " + Arrays.toString(actual));
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void decodesLikeTheReferenceLibrary() {
        List<String> failures = new ArrayList<>();
        for (String s : corpus()) {
            int[] ids = ints(oracle.encode(s, true, false).getIds());
            for (boolean skip : new boolean[] {true, false}) {
                String expected = oracle.decode(longs(ids), skip);
                String actual = tok.decode(ids, skip);
                if (!expected.equals(actual)) {
                    failures.add("\"" + s + "\" skip=" + skip + " ids " + Arrays.toString(ids)
                            + "\n  expected \"" + expected + "\"\n  actual   \"" + actual + "\"");
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void roundTripsTextTheVocabularyCovers() {
        int checked = 0;
        for (String s : corpus()) {
            int[] ids = tok.encode(s, true, false);
            if (Arrays.stream(ids).noneMatch(id -> id == 0) && !s.contains("<|")) {
                assertThat(tok.decode(ids, true)).as(s).isEqualTo(s);
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(25);
    }

    @Test
    void specialTokensAndFlags() {
        assertThat(tok.vocabSize()).isEqualTo(2048);
        assertThat(tok.bosId()).isEqualTo(1);
        assertThat(tok.eosId()).isEqualTo(2);
        assertThat(tok.isSpecial(1)).isTrue();
        assertThat(tok.isSpecial(100)).isFalse();
        assertThat(tok.encode("", true, true)).containsExactly(1);
        assertThat(tok.encode("<|end_story|>", false, false)).doesNotContain(2);
    }

    @Test
    void unknownModelTypeIsRejectedByName() throws IOException {
        Path dir = TestData.scratch("hf-unknown-model");
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, """
                {"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null,
                 "post_processor": null, "decoder": null,
                 "model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]]}}
                """);
        assertThatThrownBy(() -> Tokenizers.fromHuggingFace(dir))
                .isInstanceOf(PagodaException.class)
                .hasMessageContaining("Unigram").hasMessageContaining(json.toString());
        Path missing = dir.resolve("absent");
        assertThatThrownBy(() -> Tokenizers.fromHuggingFace(missing))
                .isInstanceOf(PagodaException.class).hasMessageContaining(missing.toString());
    }
}
