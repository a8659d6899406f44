package dev.pagoda.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.TestData;
import dev.pagoda.format.gguf.GgufFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ByteLevel side of tokenizer.json support: a tokenizer.json is built in scratch from GPT-2's vocabulary
 * (GGUF tokens and merges) with either the ByteLevel pre-tokenizer or a Split regex (Llama 3's, as written in
 * its tokenizer.json) plus ByteLevel, then checked against the Hugging Face library on varied text.
 */
class HuggingFaceByteLevelTest {
    private static final String LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    @ParameterizedTest
    @ValueSource(strings = {"ByteLevel", "Split"})
    void matchesTheReferenceLibrary(String preTokenizer) throws Exception {
        Path dir = TestData.scratch("hf-bytelevel-" + preTokenizer);
        writeTokenizerJson(dir.resolve("tokenizer.json"), preTokenizer.equals("Split"));
        Tokenizer tok = Tokenizers.fromHuggingFace(dir);
        String inp = Files.readString(TestData.path("tokenizers/ggml-vocab-gpt-2.gguf.inp"), StandardCharsets.UTF_8);
        List<String> texts = new ArrayList<>(Arrays.asList(inp.split("\n__ggml_vocab_test__\n")));
        texts.addAll(List.of("Hello<|endoftext|>world", "a <|endoftext|> b", "I'M here, WE'LL see 12345678",
                "x\r\n\r\ny", "tab\t\tend\t", "  leading and trailing  "));
        try (HuggingFaceTokenizer oracle = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), Map.of())) {
            List<String> failures = new ArrayList<>();
            for (String text : texts) {
                long[] expected = oracle.encode(text, false, false).getIds();
                int[] actual = tok.encode(text, false, true);
                if (!Arrays.equals(expected, Arrays.stream(actual).asLongStream().toArray())) {
                    failures.add(text + "\n  expected " + Arrays.toString(expected) + "\n  actual   " + Arrays.toString(actual));
                } else {
                    assertThat(tok.decode(actual, false)).isEqualTo(oracle.decode(expected, false)).isEqualTo(text);
                    assertThat(tok.decode(actual, true)).isEqualTo(oracle.decode(expected, true));
                }
            }
            assertThat(failures).isEmpty();
        }
    }

    private static void writeTokenizerJson(Path file, boolean split) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        try (GgufFile gguf = GgufFile.open(TestData.path("tokenizers/ggml-vocab-gpt-2.gguf"))) {
            String[] tokens = gguf.getStringArray("tokenizer.ggml.tokens");
            ArrayNode added = root.putArray("added_tokens");
            ObjectNode eot = added.addObject();
            eot.put("id", 50256).put("content", "<|endoftext|>").put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
            root.putNull("normalizer");
            ObjectNode byteLevel = json.createObjectNode();
            byteLevel.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                    .put("use_regex", !split);
            if (split) {
                ObjectNode seq = root.putObject("pre_tokenizer");
                seq.put("type", "Sequence");
                ArrayNode list = seq.putArray("pretokenizers");
                ObjectNode s = list.addObject();
                s.put("type", "Split");
                s.putObject("pattern").put("Regex", LLAMA3_SPLIT);
                s.put("behavior", "Isolated").put("invert", false);
                list.add(byteLevel);
            } else {
                root.set("pre_tokenizer", byteLevel);
            }
            root.set("post_processor", byteLevel.deepCopy());
            root.set("decoder", byteLevel.deepCopy());
            ObjectNode model = root.putObject("model");
            model.put("type", "BPE").putNull("dropout").putNull("unk_token").putNull("continuing_subword_prefix")
                    .putNull("end_of_word_suffix").put("fuse_unk", false).put("byte_fallback", false);
            ObjectNode vocab = model.putObject("vocab");
            for (int i = 0; i < tokens.length; i++) {
                vocab.put(tokens[i], i);
            }
            ArrayNode merges = model.putArray("merges");
            for (String m : gguf.getStringArray("tokenizer.ggml.merges")) {
                merges.add(m);
            }
        }
        json.writeValue(file.toFile(), root);
    }
}
