package dev.pagoda.tokenizer;

import dev.pagoda.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Llama 3 and Qwen2 vocab GGUFs are not among the fixtures, so their GGUF split rules (llama.cpp's rewrite
 * without {@code (?i:...)}) are checked against the original tokenizer.json patterns, which the Hugging Face
 * Split path runs and HuggingFaceByteLevelTest checks against the reference library.
 */
class PreTokenizerTest {
    private static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    static Stream<Arguments> families() {
        return Stream.of(Arguments.of("llama-bpe", LLAMA3), Arguments.of("qwen2", QWEN2));
    }

    @ParameterizedTest
    @MethodSource("families")
    void ggufRulesSplitLikeTheOriginalPattern(String pre, String original) throws Exception {
        String inp = Files.readString(TestData.path("tokenizers/ggml-vocab-llama-bpe.gguf.inp"), StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>(Arrays.asList(inp.split("\n__ggml_vocab_test__\n")));
        texts.add("I'M HERE, YOU'RE THERE; We'Ll see 1234567");
        PreTokenizer gguf = PreTokenizer.forGguf(pre, "test");
        PreTokenizer hf = PreTokenizer.ofRegexes(List.of(original));
        for (String text : texts) {
            List<String> words = gguf.split(text);
            assertThat(words).as(text).isEqualTo(hf.split(text));
            assertThat(String.join("", words)).isEqualTo(text);
        }
        List<String> expected = pre.equals("qwen2")
                ? List.of("Hello", " world", " ", "1", "2", "3", "4", "5")
                : List.of("Hello", " world", " ", "123", "45");
        assertThat(gguf.split("Hello world 12345")).isEqualTo(expected);
    }
}
