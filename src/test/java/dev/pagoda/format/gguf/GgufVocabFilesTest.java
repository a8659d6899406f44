package dev.pagoda.format.gguf;

import dev.pagoda.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** llama.cpp's vocab-only GGUFs (README in shared/tokenizers): zero tensors, big string arrays. */
class GgufVocabFilesTest {
    @ParameterizedTest
    @CsvSource({
            "llama-spm, llama, 32000", "phi-3, llama, 32064", "baichuan, llama, 64000",
            "gpt-2, gpt2, 50257", "gpt-neox, gpt2, 50432", "mpt, gpt2, 50432", "falcon, gpt2, 65024",
            "starcoder, gpt2, 49152", "refact, gpt2, 49216", "deepseek-coder, gpt2, 32256",
            "deepseek-llm, gpt2, 102400", "bert-bge, bert, 30522"})
    void opensAndExposesTheVocabulary(String name, String model, int vocabSize) {
        try (GgufFile f = GgufFile.open(TestData.path("tokenizers/ggml-vocab-" + name + ".gguf"))) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.tensors()).isEmpty();
            assertThat(f.getString("tokenizer.ggml.model")).isEqualTo(model);
            String[] tokens = f.getStringArray("tokenizer.ggml.tokens");
            assertThat(tokens).hasSize(vocabSize).doesNotContainNull();
            if (f.has("tokenizer.ggml.token_type")) {
                assertThat(f.getIntArray("tokenizer.ggml.token_type")).hasSize(vocabSize);
            }
            if (model.equals("gpt2")) {
                assertThat(f.getStringArray("tokenizer.ggml.merges")).isNotEmpty();
            }
        }
    }
}
