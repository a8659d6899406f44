package dev.pagoda.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.PagodaException;
import dev.pagoda.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class Llama2cTokenizerTest {
    private static final Path TOK512 = TestData.path("models/stories260K/tok512.bin");

    private static int[] ints(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToInt(JsonNode::asInt).toArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K_greedy_00_once_upon_a_time.json", "stories260K_greedy_01_lily_wanted_to.json"})
    void reproducesGoldenPromptTokensAndDecodedText(String golden) throws IOException {
        JsonNode g = new ObjectMapper().readTree(TestData.path("golden/stories260K/" + golden).toFile());
        Tokenizer tok = Tokenizers.fromLlama2c(TOK512);

        int[] prompt = ints(g.get("prompt_tokens"));
        assertThat(tok.encode(g.get("prompt").asText(), true, false)).containsExactly(prompt);

        int[] generated = ints(g.get("generated_tokens"));
        JsonNode stop = g.get("runc_stop_index");
        int end = stop == null || stop.isNull() ? generated.length : stop.asInt();
        int[] all = new int[prompt.length + end];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(generated, 0, all, prompt.length, end);
        assertThat(tok.decode(all, true)).isEqualTo(g.get("text_bytes_decoded").asText());

        Detokenizer d = tok.newDetokenizer(true);
        StringBuilder streamed = new StringBuilder();
        Arrays.stream(all).forEach(id -> streamed.append(d.next(id)));
        streamed.append(d.flush());
        assertThat(streamed.toString()).isEqualTo(g.get("text_bytes_decoded").asText());
    }

    @Test
    void vocabularyFacts() {
        Tokenizer tok = Tokenizers.fromLlama2c(TOK512);
        assertThat(tok.vocabSize()).isEqualTo(512);
        assertThat(tok.bosId()).isEqualTo(1);
        assertThat(tok.eosId()).isEqualTo(2);
        assertThat(tok.isSpecial(1)).isTrue();
        assertThat(tok.isSpecial(410)).isFalse();
        assertThat(tok.piece(410)).isEqualTo(" ");
        assertThat(tok.tokenBytes(3 + 0xE4)).containsExactly((byte) 0xE4);
        assertThat(tok.encode("", true, false)).containsExactly(1);
        assertThat(tok.encode("", false, false)).isEmpty();
    }

    @Test
    void unknownCharactersFallBackToBytesAndDecodeBack() {
        Tokenizer tok = Tokenizers.fromLlama2c(TOK512);
        String text = "Tim saw 你好 and 🦙!";
        int[] ids = tok.encode(text, true, false);
        assertThat(ids).contains(3 + 0xE4, 3 + 0xF0);
        assertThat(tok.decode(ids, true)).isEqualTo(text);
    }

    @Test
    void truncatedOrCorruptFileIsRejected() throws IOException {
        byte[] good = Files.readAllBytes(TOK512);
        Path dir = TestData.scratch("llama2c-tokenizer");
        Path truncated = dir.resolve("truncated.bin");
        Files.write(truncated, Arrays.copyOf(good, good.length - 3));
        assertThatThrownBy(() -> Tokenizers.fromLlama2c(truncated))
                .isInstanceOf(PagodaException.class).hasMessageContaining(truncated.toString());

        byte[] bad = good.clone();
        bad[8] = 0x7F; // first token's length becomes huge
        Path corrupt = dir.resolve("corrupt.bin");
        Files.write(corrupt, bad);
        assertThatThrownBy(() -> Tokenizers.fromLlama2c(corrupt))
                .isInstanceOf(PagodaException.class).hasMessageContaining("corrupt");

        Path empty = dir.resolve("empty.bin");
        Files.write(empty, new byte[2]);
        assertThatThrownBy(() -> Tokenizers.fromLlama2c(empty)).isInstanceOf(PagodaException.class);
    }
}
