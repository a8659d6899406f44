package dev.pagoda.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.TestData;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.Generator;
import dev.pagoda.engine.LLM;
import dev.pagoda.sampling.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code pagoda synth}'s architectures at a small size: the written GGUF loads as that architecture with its special
 * features, and a sequence running well past the sliding window generates the same tokens through the paged engine
 * (block sizes 1 and 4, a cache small enough to preempt) as over the dense reference that masks by the window.
 */
class SyntheticArchitecturesTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "llama3 | llama  | scaling llama3",
            "qwen2  | qwen2  | ",
            "qwen3  | qwen3  | ",
            "gemma2 | gemma2 | sliding window 8 on 3 of 6 layers; attention soft-cap 50.0; final logit soft-cap 30.0",
            "gemma3 | gemma3 | sliding window 8 on 5 of 6 layers",
            "phi3   | phi3   | sliding window 8 on every layer"})
    void writesLoadsAndServesEachArchitecture(String arch, String ggufArch, String feature) throws Exception {
        SyntheticShape shape = new SyntheticShape(arch + "-test", arch, 64, 128, 6, 4, 2, 32, 300, 256,
                arch.startsWith("gemma") || arch.equals("phi3") ? 8 : 0);
        Path file = TestData.scratch("synth-arch").resolve(arch + ".gguf");
        SyntheticModel.write(shape, SyntheticDtype.F32, 3, file);
        int[] prompt = new int[20];
        List<int[]> prompts = new ArrayList<>();
        int[] solo;
        try (Model m = ModelLoader.open(file)) {
            ModelConfig c = m.config();
            assertThat(c.architecture()).isEqualTo(ggufArch);
            assertThat(c.qDim()).isEqualTo(128);
            assertThat(m.weights().layers().get(0).qNorm() != null).isEqualTo(arch.equals("qwen3") || arch.equals("gemma3"));
            assertThat(m.weights().layers().get(0).bq() != null).isEqualTo(arch.equals("qwen2"));
            if (feature != null) {
                assertThat(String.join("; ", c.features()) + " " + c.rope()).contains(feature);
            }
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = (i * 37 + 5) % m.tokenizer().vocabSize();
            }
            solo = new Generator(m, 8).generate(prompt, SamplingParams.greedy(40).withIgnoreEos(true), null, null).output().tokenIds();
            assertThat(solo).hasSize(40);
        }
        for (int i = 0; i < 4; i++) {
            prompts.add(prompt);
        }
        for (int block : new int[] {1, 4}) {
            long bytesPerToken = 4L * 2 * shape.layers * shape.kvHeads * shape.headDim;
            // phi3 (every layer sliding) releases the blocks out of its window, so only a smaller cache preempts; vLLM's
            // admission (no growth room), so that the small cache does preempt.
            int cacheTokens = arch.equals("phi3") ? 30 : 100;
            EngineConfig config = EngineConfig.builder().blockSize(block).enablePrefixCaching(true).growthRoom(false)
                    .kvCacheMemory(cacheTokens * bytesPerToken).maxModelLen(64).maxNumBatchedTokens(16).maxNumSeqs(4).build();
            try (LLM llm = LLM.of(ModelLoader.open(file), config)) {
                var out = llm.generateTokens(prompts, SamplingParams.greedy(40).withIgnoreEos(true));
                for (var r : out) {
                    assertThat(r.output().tokenIds()).as("%s block %d", arch, block).containsExactly(solo);
                }
                assertThat(llm.engine().stats().preemptions()).isPositive();
                llm.engine().awaitIdle();
                assertThat(llm.engine().kvUsage().blocksUsed()).isZero();
            }
        }
    }
}
