package dev.pagoda.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.TestData;
import dev.pagoda.attention.DenseKvAttention;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.engine.Generator;
import dev.pagoda.sampling.SamplingParams;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * stories260K (llama2.c .bin + tok512.bin, and GGUF) against llama2.c run.c's reference outputs:
 * prompt tokens exactly, logits within 1e-4 absolute, greedy tokens up to the first near-tie step
 * (top two logits within 1e-2, where summation order may legitimately flip the argmax).
 */
class StoriesGoldenTest {
    static final double LOGIT_TOLERANCE = 1e-4;
    static final double NEAR_TIE = 1e-2;

    static Stream<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (String model : List.of("models/stories260K/stories260K.bin", "models/stories260K/stories260K.gguf")) {
            for (String golden : List.of("stories260K_greedy_00_once_upon_a_time.json", "stories260K_greedy_01_lily_wanted_to.json")) {
                a.add(Arguments.of(model, golden));
            }
        }
        return a.stream();
    }

    static JsonNode golden(String name) throws IOException {
        return new ObjectMapper().readTree(TestData.path("golden/stories260K/" + name).toFile());
    }

    static int[] ints(JsonNode arr) {
        int[] r = new int[arr.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = arr.get(i).asInt();
        }
        return r;
    }

    /** The number of generated tokens that must match: those before the first near-tie step. */
    static int exactPrefix(JsonNode g) {
        int promptLen = g.get("prompt_tokens").size();
        JsonNode positions = g.get("positions");
        int n = g.get("generated_tokens").size();
        for (int k = 0; k < n; k++) {
            JsonNode top = positions.get(promptLen - 1 + k).get("top5_logits");
            if (top.get(0).asDouble() - top.get(1).asDouble() < NEAR_TIE) {
                return k;
            }
        }
        return n;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void promptTokensAndGreedyTokensMatchRunC(String modelPath, String goldenName) throws IOException {
        JsonNode g = golden(goldenName);
        try (Model m = ModelLoader.open(TestData.path(modelPath))) {
            int[] prompt = m.tokenizer().encode(g.get("prompt").asText(), true, false);
            assertThat(prompt).containsExactly(ints(g.get("prompt_tokens")));

            int[] expected = ints(g.get("generated_tokens"));
            int exact = exactPrefix(g);
            assertThat(exact).as("steps before the first near-tie").isGreaterThan(20);
            RequestResult r = new Generator(m, 64).generate(prompt,
                    SamplingParams.greedy(expected.length).withIgnoreEos(true), null, null);
            assertThat(java.util.Arrays.copyOf(r.output().tokenIds(), exact)).containsExactly(java.util.Arrays.copyOf(expected, exact));
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void logitsMatchRunCAtEveryPosition(String modelPath, String goldenName) throws IOException {
        JsonNode g = golden(goldenName);
        try (Model m = ModelLoader.open(TestData.path(modelPath))) {
            int vocab = m.config().vocabSize();
            Transformer tf = new Transformer(m, 1);
            DenseKvAttention kv = new DenseKvAttention(m.config(), 1, m.config().contextLength());
            ForwardBatch<Integer> batch = new ForwardBatch<>(1, 1);
            float[] logits = new float[vocab];
            JsonNode positions = g.get("positions");
            JsonNode full = g.get("full_logits_first8_positions");
            int checked = 0;
            for (int pos = 0; pos < positions.size(); pos++) {
                JsonNode p = positions.get(pos);
                batch.clear();
                batch.addSequence(0, new int[] {p.get("input").asInt()}, 0, 1, pos, true);
                tf.forward(batch, kv, logits);
                if (pos < full.size()) {
                    JsonNode f = full.get(pos);
                    for (int i = 0; i < vocab; i++) {
                        assertThat((double) logits[i]).as("pos %d logit %d", pos, i).isCloseTo(f.get(i).asDouble(), within(LOGIT_TOLERANCE));
                    }
                }
                JsonNode ids = p.get("top5_ids"), vals = p.get("top5_logits");
                for (int i = 0; i < ids.size(); i++) {
                    assertThat((double) logits[ids.get(i).asInt()]).as("pos %d top-%d logit", pos, i)
                            .isCloseTo(vals.get(i).asDouble(), within(LOGIT_TOLERANCE));
                }
                checked++;
            }
            assertThat(checked).isEqualTo(positions.size());
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void chunkedPrefillGivesBitIdenticalLogits(String modelPath, String goldenName) throws IOException {
        JsonNode g = golden(goldenName);
        try (Model m = ModelLoader.open(TestData.path(modelPath))) {
            int[] tokens = ints(g.get("generated_tokens"));
            int n = 37;
            float[] reference = null;
            for (int chunk : new int[] {1, 5, 16, 37}) {
                Transformer tf = new Transformer(m, chunk);
                DenseKvAttention kv = new DenseKvAttention(m.config(), 1, m.config().contextLength());
                ForwardBatch<Integer> batch = new ForwardBatch<>(chunk, 1);
                float[] logits = new float[m.config().vocabSize()];
                for (int start = 0; start < n; start += chunk) {
                    int len = Math.min(chunk, n - start);
                    batch.clear();
                    batch.addSequence(0, tokens, start, len, start, start + len == n);
                    tf.forward(batch, kv, logits);
                }
                if (reference == null) {
                    reference = logits;
                } else {
                    assertThat(logits).as("chunk %d", chunk).containsExactly(reference);
                }
            }
        }
    }
}
