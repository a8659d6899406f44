package dev.pagoda.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Metaspace pre-tokenizer and decoder (newer SentencePiece-style tokenizer.json files use them instead of
 * the Prepend/Replace normalizer): TinyStories-656K's vocabulary rewritten that way, against the reference library.
 */
class HuggingFaceMetaspaceTest {
    @ParameterizedTest
    @CsvSource({"first,false", "always,true", "never,false"})
    void matchesTheReferenceLibrary(String scheme, boolean split) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(TestData.path("models/TinyStories-656K/tokenizer.json").toFile());
        root.putNull("normalizer");
        ObjectNode meta = json.createObjectNode();
        meta.put("type", "Metaspace").put("replacement", "\u2581").put("prepend_scheme", scheme).put("split", split);
        root.set("pre_tokenizer", meta);
        root.set("decoder", meta.deepCopy());
        Path dir = TestData.scratch("hf-metaspace-" + scheme + "-" + split);
        json.writeValue(dir.resolve("tokenizer.json").toFile(), root);

        Tokenizer tok = Tokenizers.fromHuggingFace(dir.resolve("tokenizer.json"));
        List<String> failures = new ArrayList<>();
        try (HuggingFaceTokenizer oracle = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), Map.of())) {
            for (String s : HuggingFaceTokenizerTest.corpus()) {
                long[] expected = oracle.encode(s, true, false).getIds();
                int[] actual = tok.encode(s, true, true);
                String decoded = tok.decode(actual, true);
                if (!Arrays.equals(expected, Arrays.stream(actual).asLongStream().toArray())
                        || !decoded.equals(oracle.decode(expected, true))) {
                    failures.add("\"" + s + "\"\n  expected " + Arrays.toString(expected) + " \""
                            + oracle.decode(expected, true) + "\"\n  actual   " + Arrays.toString(actual) + " \"" + decoded + "\"");
                }
            }
        }
        assertThat(failures).isEmpty();
    }
}
