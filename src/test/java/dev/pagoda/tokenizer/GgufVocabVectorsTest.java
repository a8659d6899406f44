package dev.pagoda.tokenizer;

import dev.pagoda.TestData;
import dev.pagoda.format.gguf.GgufFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * llama.cpp's tokenizer test vectors (produced by each model's Hugging Face tokenizer with
 * add_special_tokens=False): every family whose vocab GGUF is present must reproduce them exactly.
 */
class GgufVocabVectorsTest {
    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    @ParameterizedTest
    @ValueSource(strings = {"llama-spm", "phi-3", "gpt-2", "mpt", "falcon", "starcoder", "refact",
            "deepseek-coder", "deepseek-llm", "bert-bge"})
    void encodesTestVectorsExactly(String family) throws IOException {
        String base = "tokenizers/ggml-vocab-" + family + ".gguf";
        String inp = Files.readString(TestData.path(base + ".inp"), StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>(Arrays.asList(inp.split(SEPARATOR, -1)));
        assertThat(texts.removeLast()).isEmpty(); // the file ends with a separator
        List<String> expected = Files.readAllLines(TestData.path(base + ".out"), StandardCharsets.UTF_8);
        assertThat(expected).hasSameSizeAs(texts);

        try (GgufFile gguf = GgufFile.open(TestData.path(base))) {
            Tokenizer tok = Tokenizers.fromGguf(gguf);
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                int[] ids = tok.encode(texts.get(i), false, false);
                StringBuilder got = new StringBuilder();
                for (int id : ids) {
                    got.append(' ').append(id);
                }
                if (!got.toString().equals(expected.get(i))) {
                    failures.add("#" + i + " " + escape(texts.get(i)) + "\n  expected:" + expected.get(i)
                            + "\n  actual:  " + got);
                }
            }
            assertThat(failures).as(family).isEmpty();
        }
    }

    private static String escape(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\t", "\\t") + "\"";
    }
}
