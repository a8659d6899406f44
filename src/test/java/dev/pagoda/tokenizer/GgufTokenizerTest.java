package dev.pagoda.tokenizer;

import dev.pagoda.PagodaException;
import dev.pagoda.TestData;
import dev.pagoda.format.gguf.GgufFile;
import dev.pagoda.format.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** GGUF tokenizers beyond the test vectors: special tokens, BOS/EOS flags, decoding, bad metadata. */
class GgufTokenizerTest {
    private static void with(String family, Consumer<Tokenizer> check) {
        try (GgufFile gguf = GgufFile.open(TestData.path("tokenizers/ggml-vocab-" + family + ".gguf"))) {
            check.accept(Tokenizers.fromGguf(gguf));
        }
    }

    @Test
    void sentencePieceSpecialTokensAndFlags() {
        with("phi-3", tok -> {
            assertThat(tok.bosId()).isEqualTo(1);
            assertThat(tok.eosId()).isEqualTo(32000);
            assertThat(tok.encode("Hi<|endoftext|>", true, true)).startsWith(1).endsWith(32000);
            assertThat(tok.encode("Hi<|endoftext|>", true, false)).doesNotContain(32000);
            assertThat(tok.isSpecial(32000)).isTrue();
            assertThat(tok.decode(tok.encode("Hi<|endoftext|>", true, true), true)).isEqualTo("Hi");
            assertThat(tok.decode(tok.encode("Hi<|endoftext|>", true, true), false)).isEqualTo("<s> Hi<|endoftext|>");
        });
        with("llama-spm", tok -> {
            assertThat(tok.encode("", true, false)).containsExactly(1);
            // after a special token the dummy-prefix space applies again, as llama.cpp does it
            int[] ids = tok.encode("<s>Hello", false, true);
            assertThat(ids).containsExactly(1, tok.encode("Hello", false, false)[0]);
        });
    }

    @Test
    void stories260kGgufEncodesLikeItsLlama2cTokenizer() {
        Tokenizer bin = Tokenizers.fromLlama2c(TestData.path("models/stories260K/tok512.bin"));
        try (GgufFile gguf = GgufFile.open(TestData.path("models/stories260K/stories260K.gguf"))) {
            Tokenizer tok = Tokenizers.fromGguf(gguf);
            for (String text : new String[] {"Once upon a time", "Lily wanted to", "", " two  spaces\n", "日本 🦙"}) {
                int[] ids = tok.encode(text, true, false);
                assertThat(ids).as(text).containsExactly(bin.encode(text, true, false));
                assertThat(tok.decode(ids, true)).isEqualTo(bin.decode(ids, true)).isEqualTo(text);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt-2", "mpt", "falcon", "starcoder", "refact", "deepseek-coder", "deepseek-llm"})
    void byteLevelDecodeGivesTheTextBack(String family) throws Exception {
        String inp = Files.readString(TestData.path("tokenizers/ggml-vocab-" + family + ".gguf.inp"), StandardCharsets.UTF_8);
        with(family, tok -> {
            for (String text : inp.split("\n__ggml_vocab_test__\n")) {
                assertThat(tok.decode(tok.encode(text, false, false), true)).isEqualTo(text);
            }
        });
    }

    @Test
    void byteLevelSpecialTokens() {
        with("gpt-2", tok -> {
            assertThat(tok.encode("a<|endoftext|>b", false, true)).containsExactly(64, 50256, 65);
            assertThat(tok.encode("a<|endoftext|>b", false, false)).doesNotContain(50256);
            assertThat(tok.encode("a", true, false)).containsExactly(64); // GPT-2 adds no BOS
            assertThat(tok.piece(50256)).isEqualTo("<|endoftext|>");
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (int id : tok.encode(" 🦙é", false, false)) {
                bytes.writeBytes(tok.tokenBytes(id));
            }
            assertThat(bytes.toByteArray()).isEqualTo(" 🦙é".getBytes(StandardCharsets.UTF_8));
        });
        with("deepseek-llm", tok -> assertThat(tok.encode("Hi", true, false)).startsWith(100000));
    }

    @Test
    void wordPieceAddsClsAndSep() {
        with("bert-bge", tok -> {
            int[] ids = tok.encode("Hello, World!", true, false);
            assertThat(ids).startsWith(101).endsWith(102);
            assertThat(tok.decode(ids, true)).isEqualTo("hello , world !");
        });
    }

    @Test
    void unsupportedModelOrPreTokenizerIsNamed() {
        Path dir = TestData.scratch("gguf-tokenizer");
        Path rwkv = dir.resolve("rwkv.gguf");
        new GgufWriter().put("tokenizer.ggml.model", "rwkv").put("tokenizer.ggml.tokens", new String[] {"a"}).write(rwkv);
        try (GgufFile gguf = GgufFile.open(rwkv)) {
            assertThatThrownBy(() -> Tokenizers.fromGguf(gguf)).isInstanceOf(PagodaException.class)
                    .hasMessageContaining("rwkv").hasMessageContaining(rwkv.toString());
        }
        Path pre = dir.resolve("pre.gguf");
        new GgufWriter().put("tokenizer.ggml.model", "gpt2").put("tokenizer.ggml.pre", "martian")
                .put("tokenizer.ggml.tokens", new String[] {"a"}).put("tokenizer.ggml.merges", new String[0]).write(pre);
        try (GgufFile gguf = GgufFile.open(pre)) {
            assertThatThrownBy(() -> Tokenizers.fromGguf(gguf)).isInstanceOf(PagodaException.class)
                    .hasMessageContaining("martian");
        }
        Path none = dir.resolve("none.gguf");
        new GgufWriter().put("general.name", "x").write(none);
        try (GgufFile gguf = GgufFile.open(none)) {
            assertThatThrownBy(() -> Tokenizers.fromGguf(gguf)).isInstanceOf(PagodaException.class)
                    .hasMessageContaining("tokenizer.ggml.model");
        }
    }
}
