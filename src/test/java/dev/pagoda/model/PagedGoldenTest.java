package dev.pagoda.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pagoda.TestData;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.LLM;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.sampling.SamplingParams;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Generation through the paged KV cache (and the contiguous baseline) reproduces llama2.c's reference tokens. */
class PagedGoldenTest {
    @ParameterizedTest(name = "{0} block {1}")
    @CsvSource({"PAGED, 1", "PAGED, 16", "PAGED, 256", "CONTIGUOUS, 16"})
    void engineMatchesRunC(KvLayout layout, int blockSize) throws Exception {
        EngineConfig config = EngineConfig.builder().kvLayout(layout).blockSize(blockSize).kvCacheMemory(8L << 20).build();
        try (LLM llm = LLM.of(ModelLoader.open(TestData.path("models/stories260K/stories260K.bin")), config)) {
            for (String name : List.of("stories260K_greedy_00_once_upon_a_time.json", "stories260K_greedy_01_lily_wanted_to.json")) {
                JsonNode g = StoriesGoldenTest.golden(name);
                int[] expected = StoriesGoldenTest.ints(g.get("generated_tokens"));
                int exact = StoriesGoldenTest.exactPrefix(g);
                int[] got = llm.generateTokens(List.of(StoriesGoldenTest.ints(g.get("prompt_tokens"))),
                        SamplingParams.greedy(expected.length).withIgnoreEos(true)).get(0).output().tokenIds();
                assertThat(Arrays.copyOf(got, exact)).as(name).containsExactly(Arrays.copyOf(expected, exact));
            }
            llm.engine().awaitIdle();
            assertThat(llm.engine().kvUsage().blocksUsed()).isZero();
        }
    }
}
