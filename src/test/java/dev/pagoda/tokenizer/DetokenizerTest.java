package dev.pagoda.tokenizer;

import dev.pagoda.TestData;
import dev.pagoda.format.gguf.GgufFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Streaming decode: never a broken character, and the deltas add up to the whole decode. */
class DetokenizerTest {
    private static GgufFile gguf;
    private static Tokenizer llama;

    @BeforeAll
    static void load() {
        gguf = GgufFile.open(TestData.path("tokenizers/ggml-vocab-llama-spm.gguf"));
        llama = Tokenizers.fromGguf(gguf);
    }

    @AfterAll
    static void close() {
        gguf.close();
    }

    private static int byteToken(int b) {
        return 3 + b; // Llama 2: <0x00> is id 3
    }

    @Test
    void multiByteCharactersSplitAcrossByteTokensAreEmittedWhole() {
        String text = "Hi 🦙 and 𠜎 and ꙮ!";
        int[] ids = llama.encode(text, true, false);
        assertThat(ids).contains(byteToken(0xF0)); // the emoji falls back to bytes
        Detokenizer d = llama.newDetokenizer(true);
        StringBuilder all = new StringBuilder();
        for (int id : ids) {
            String delta = d.next(id);
            assertThat(delta).doesNotContain("\uFFFD");
            assertThat(delta.getBytes(StandardCharsets.UTF_8)).asString(StandardCharsets.UTF_8).isEqualTo(delta);
            if (!delta.isEmpty()) {
                assertThat(Character.isLowSurrogate(delta.charAt(0))).isFalse();
                assertThat(Character.isHighSurrogate(delta.charAt(delta.length() - 1))).isFalse();
            }
            all.append(delta);
        }
        all.append(d.flush());
        assertThat(all.toString()).isEqualTo(text).isEqualTo(llama.decode(ids, true));
    }

    @Test
    void deltasHoldBackUntilTheCharacterIsComplete() {
        Detokenizer d = llama.newDetokenizer(true);
        assertThat(d.next(byteToken(0xF0))).isEmpty();
        assertThat(d.next(byteToken(0x9F))).isEmpty();
        assertThat(d.next(byteToken(0xA6))).isEmpty();
        assertThat(d.next(byteToken(0x99))).isEqualTo("🦙");
        assertThat(d.flush()).isEmpty();
    }

    @Test
    void invalidBytesBecomeOneReplacementOnceKnownInvalid() {
        Detokenizer d = llama.newDetokenizer(true);
        assertThat(d.next(byteToken(0xE4))).isEmpty();
        assertThat(d.next(byteToken(0xBD))).isEmpty();
        assertThat(d.next(byteToken('a'))).isEqualTo("\uFFFDa");
        assertThat(d.next(byteToken(0xFF))).isEqualTo("\uFFFD");
        assertThat(d.next(byteToken(0xC3))).isEmpty();
        assertThat(d.flush()).isEqualTo("\uFFFD");

        int[] ids = {byteToken(0xE4), byteToken(0xBD), byteToken('a'), byteToken(0xFF), byteToken(0xC3)};
        assertThat(llama.decode(ids, true)).isEqualTo("\uFFFDa\uFFFD\uFFFD");
    }

    @Test
    void leadingSpaceOfTheFirstPieceIsDroppedOnce() {
        int[] ids = llama.encode("Hello world", true, false);
        assertThat(llama.piece(ids[1])).startsWith("\u2581");
        assertThat(llama.decode(ids, true)).isEqualTo("Hello world");
        assertThat(llama.decode(ids, false)).isEqualTo("<s> Hello world");
        Detokenizer d = llama.newDetokenizer(true);
        assertThat(d.next(ids[0])).isEmpty();
        assertThat(d.next(ids[1])).isEqualTo("Hello");
        assertThat(d.next(ids[2])).isEqualTo(" world");
    }

    @Test
    void streamedDecodeEqualsWholeDecodeOnTheTestVectors() throws Exception {
        String inp = java.nio.file.Files.readString(TestData.path("tokenizers/ggml-vocab-llama-spm.gguf.inp"));
        for (String text : inp.split("\n__ggml_vocab_test__\n")) {
            int[] ids = llama.encode(text, true, false);
            Detokenizer d = llama.newDetokenizer(true);
            StringBuilder all = new StringBuilder();
            for (int id : ids) {
                all.append(d.next(id));
            }
            all.append(d.flush());
            assertThat(all.toString()).isEqualTo(llama.decode(ids, true));
        }
    }
}
