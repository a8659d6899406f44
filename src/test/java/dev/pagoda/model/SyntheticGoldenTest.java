package dev.pagoda.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.TestData;
import dev.pagoda.attention.DenseKvAttention;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.LLM;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.kernel.Ops;
import dev.pagoda.sampling.SamplingParams;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The synthetic architecture models (shared/models/synthetic: llama3 with rope scaling, qwen2, qwen3, gemma2, phi3),
 * each as GGUF and as a Hugging Face folder, against the references in shared/golden/synthetic (llama.cpp; qwen3: a
 * float64 reference): prompt token ids exactly; greedy tokens at every step before the first near-tie; the top-1
 * log-probability within 0.02 there (0.1 for gemma2, whose reference uses llama.cpp's table-based GELU). Every prompt
 * in the reference file is checked.
 */
class SyntheticGoldenTest {
    static final List<String> VARIANTS = List.of("llama3", "qwen2", "qwen3", "gemma2", "phi3");
    static final int STEPS = 64;

    static Stream<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        for (String v : VARIANTS) {
            a.add(Arguments.of(v, "gguf"));
            a.add(Arguments.of(v, "hf"));
        }
        return a.stream();
    }

    static JsonNode golden(String variant) throws IOException {
        return new ObjectMapper().readTree(TestData.path("golden/synthetic/" + variant + ".json").toFile());
    }

    static Path model(String variant, String format) {
        return TestData.path("models/synthetic/" + variant + ("gguf".equals(format) ? "/" + variant + "-f32.gguf" : "/hf"));
    }

    static int[] ints(JsonNode arr) {
        return StoriesGoldenTest.ints(arr);
    }

    /** Steps whose tokens must match: those before the first near-tie (all when there is none). */
    static int exactSteps(JsonNode prompt) {
        JsonNode tie = prompt.get("first_near_tie");
        return tie == null || tie.isNull() ? prompt.get("token_ids").size() : tie.asInt();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void greedyTokensAndLogprobsMatchTheReference(String variant, String format) throws IOException {
        double tolerance = variant.equals("gemma2") ? 0.1 : 0.02;
        JsonNode g = golden(variant);
        try (Model m = ModelLoader.open(model(variant, format))) {
            assertThat(m.config().architecture()).isEqualTo(variant.equals("llama3") ? "llama" : variant);
            for (JsonNode p : g.get("prompts")) {
                String what = variant + " " + format + " prompt " + p.get("index").asInt();
                int[] prompt = m.tokenizer().encode(p.get("prompt").asText(), true, false);
                assertThat(prompt).as(what).containsExactly(ints(p.get("prompt_token_ids")));

                int exact = exactSteps(p);
                int[] expected = ints(p.get("token_ids"));
                Greedy run = greedy(m, prompt, exact);
                assertThat(Arrays.copyOf(run.tokens, exact)).as(what).containsExactly(Arrays.copyOf(expected, exact));
                for (int k = 0; k < exact; k++) {
                    assertThat(run.top1Logprob[k]).as("%s step %d top-1 logprob", what, k)
                            .isCloseTo(p.get("top5_logprob").get(k).get(0).asDouble(), within(tolerance));
                }
            }
        }
    }

    record Greedy(int[] tokens, double[] top1Logprob, float[] top1Logit) {
    }

    /** Greedy decoding over the dense reference attention, one token a step, recording the top-1 logit and log-probability. */
    static Greedy greedy(Model m, int[] prompt, int steps) {
        ModelConfig c = m.config();
        Transformer tf = new Transformer(m, prompt.length);
        DenseKvAttention kv = new DenseKvAttention(c, 1, c.contextLength());
        ForwardBatch<Integer> batch = new ForwardBatch<>(prompt.length, 1);
        float[] logits = new float[c.vocabSize()];
        batch.addSequence(0, prompt, 0, prompt.length, 0, true);
        tf.forward(batch, kv, logits);
        int[] tokens = new int[steps];
        double[] logprob = new double[steps];
        float[] top = new float[steps];
        for (int k = 0; k < steps; k++) {
            int best = Ops.argmax(logits, 0, logits.length);
            double sum = 0;
            for (float l : logits) {
                sum += Math.exp((double) l - logits[best]);
            }
            tokens[k] = best;
            top[k] = logits[best];
            logprob[k] = -Math.log(sum);
            batch.clear();
            batch.addSequence(0, new int[] {best}, 0, 1, prompt.length + k, true);
            tf.forward(batch, kv, logits);
        }
        return new Greedy(tokens, logprob, top);
    }

    static Stream<Arguments> engineCases() {
        List<Arguments> a = new ArrayList<>();
        // Both block sizes for every variant; the formats alternate (each is checked against the reference above).
        for (String v : VARIANTS) {
            a.add(Arguments.of(v, "gguf", 1));
            a.add(Arguments.of(v, "hf", 16));
        }
        return a.stream();
    }

    /**
     * Through the engine with a KV cache too small for the batch (preemption), prefix caching on and prompts that
     * share prefixes, block sizes 1 and 16: every request gets exactly the tokens it gets alone over the dense reference,
     * which match the reference file before its near-tie; every block returns to the pool.
     */
    @ParameterizedTest(name = "{0} {1} block {2}")
    @MethodSource("engineCases")
    void engineWithPreemptionAndPrefixCachingMatchesSoloRuns(String variant, String format, int blockSize) throws Exception {
        JsonNode g = golden(variant);
        List<int[]> prompts = new ArrayList<>();
        List<int[]> solo = new ArrayList<>();
        long bytesPerToken;
        try (Model m = ModelLoader.open(model(variant, format))) {
            for (JsonNode p : g.get("prompts")) {
                int[] prompt = ints(p.get("prompt_token_ids"));
                prompts.add(prompt);
                // Shares the whole prompt as a prefix, for the prefix cache.
                int[] longer = Arrays.copyOf(prompt, prompt.length + 3);
                System.arraycopy(prompt, 1, longer, prompt.length, 3);
                prompts.add(longer);
            }
            for (int[] prompt : prompts) {
                solo.add(greedy(m, prompt, STEPS).tokens);
            }
            bytesPerToken = 4L * 2 * m.config().layers() * m.config().kvDim();
        }
        // phi3 slides every layer (window 32): its blocks out of the window are freed, so with blocks of 1 only a
        // smaller cache preempts. vLLM's admission (no growth room), so that the small cache does preempt.
        int slots = variant.equals("phi3") && blockSize == 1 ? 96 : 160;
        EngineConfig config = EngineConfig.builder().blockSize(blockSize).enablePrefixCaching(true).growthRoom(false)
                    .kvCacheMemory(slots * bytesPerToken).maxModelLen(128).maxNumBatchedTokens(24).maxNumSeqs(8).build();
        try (LLM llm = LLM.of(ModelLoader.open(model(variant, format)), config)) {
            List<RequestResult> out = llm.generateTokens(prompts, SamplingParams.greedy(STEPS).withIgnoreEos(true));
            for (int i = 0; i < prompts.size(); i++) {
                assertThat(out.get(i).output().tokenIds()).as("%s %s request %d", variant, format, i).containsExactly(solo.get(i));
            }
            for (int i = 0; i < g.get("prompts").size(); i++) {
                JsonNode p = g.get("prompts").get(i);
                int exact = exactSteps(p);
                assertThat(Arrays.copyOf(solo.get(2 * i), exact)).containsExactly(Arrays.copyOf(ints(p.get("token_ids")), exact));
            }
            assertThat(llm.engine().stats().preemptions()).as("the small KV cache forces preemption").isPositive();
            assertThat(llm.engine().stats().prefixHitTokens()).as("prefix cache hits").isPositive();
            llm.engine().awaitIdle();
            assertThat(llm.engine().kvUsage().blocksUsed()).isZero();
        }
    }
}
