package dev.pagoda.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.TestData;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import dev.pagoda.model.SyntheticDtype;
import dev.pagoda.model.SyntheticModel;
import dev.pagoda.model.SyntheticShape;
import dev.pagoda.sampling.BeamSearchParams;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.scheduler.PreemptionMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A model whose every layer has a sliding window of 8 (Phi-3's layout, small): the paged engine releases each
 * sequence's blocks out of the window after every step, so sequences run far past the window in a KV cache
 * smaller than one of them, with preemption (recompute or swap), prefix caching and forked samples, and generate
 * exactly what a run that keeps every position does: the dense reference masked by the window, or the contiguous
 * layout, which reserves every position.
 */
class SlidingWindowEngineTest {
    private static final int WINDOW = 8;
    private static final SyntheticShape SHAPE = new SyntheticShape("phi3-window-test", "phi3", 64, 128, 4, 4, 2, 16,
            300, 256, WINDOW);
    private static final int MAX_LEN = 200;
    private static final int OUTPUT = 160;
    private static Path file;

    @BeforeAll
    static void writeModel() {
        file = TestData.scratch("sliding-window").resolve("phi3-window.gguf");
        SyntheticModel.write(SHAPE, SyntheticDtype.F32, 11, file);
    }

    private static long bytesPerToken() {
        return 4L * 2 * SHAPE.layers * SHAPE.kvHeads * SHAPE.headDim;
    }

    /**
     * The prompts share a prefix of three blocks (of 4), two are the same: with recomputation, re-admitted sequences
     * hit cached blocks.
     */
    private static List<int[]> prompts() {
        List<int[]> prompts = new ArrayList<>();
        for (int v = 0; v < 4; v++) {
            int[] p = new int[36];
            for (int i = 0; i < p.length; i++) {
                p[i] = (i * 37 + 5 + (i >= 12 ? v % 3 : 0)) % SHAPE.vocab;
            }
            prompts.add(p);
        }
        return prompts;
    }

    @ParameterizedTest(name = "block {0}, {1}")
    @CsvSource({"1, RECOMPUTE", "4, RECOMPUTE", "4, SWAP"})
    void greedyTokensFarPastTheWindowMatchTheDenseMaskedReference(int block, PreemptionMode mode) throws Exception {
        List<int[]> prompts = prompts();
        List<int[]> expected = new ArrayList<>();
        try (Model m = ModelLoader.open(file)) {
            assertThat(m.config().maxWindow()).isEqualTo(WINDOW);
            Generator dense = new Generator(m, 8);
            for (int[] p : prompts) {
                expected.add(dense.generate(p, SamplingParams.greedy(OUTPUT).withIgnoreEos(true), null, null).output().tokenIds());
            }
        }
        int cacheSlots = 28;
        // vLLM's admission (no growth room), so that the small cache does preempt.
        EngineConfig config = EngineConfig.builder().blockSize(block).enablePrefixCaching(true).growthRoom(false).preemptionMode(mode)
                .swapSpace(1L << 20).kvCacheMemory(cacheSlots * bytesPerToken()).maxModelLen(MAX_LEN)
                .maxNumBatchedTokens(16).maxNumSeqs(4).build();
        try (LLM llm = LLM.of(ModelLoader.open(file), config)) {
            assertThat(llm.engine().maxModelLen()).as("a sequence longer than the whole cache").isGreaterThan(llm.engine().kvCacheSlots());
            List<RequestResult> out = llm.generateTokens(prompts, SamplingParams.greedy(OUTPUT).withIgnoreEos(true));
            for (int i = 0; i < prompts.size(); i++) {
                assertThat(out.get(i).output().tokenIds()).as("prompt %d, block %d, %s", i, block, mode)
                        .containsExactly(expected.get(i));
            }
            EngineStats.Snapshot s = llm.engine().stats();
            assertThat(mode == PreemptionMode.SWAP ? s.swapPreemptions() : s.recomputePreemptions())
                    .as("preemption exercised").isPositive();
            if (mode == PreemptionMode.RECOMPUTE) {
                assertThat(s.prefixHitTokens()).as("prefix cache hits exercised").isPositive();
            }
            EngineFixtures.assertAllFree(llm.engine());
        }
    }

    /**
     * Beams share their history's blocks and each drops its own references as the window moves on; they equal the
     * plain beam search that recomputes every beam from scratch, every position kept.
     */
    @Test
    void beamsPastTheWindowEqualAPlainReference() throws Exception {
        BeamSearchParams params = new BeamSearchParams(3, 1.0f, BeamSearchParams.EarlyStopping.FALSE, 40, false);
        int[] prompt = prompts().getFirst();
        List<BeamSearchTest.Beam> reference;
        try (Model m = ModelLoader.open(file)) {
            reference = BeamSearchTest.plainBeamSearch(m, prompt, params);
        }
        EngineConfig config = EngineConfig.builder().blockSize(4).enablePrefixCaching(true)
                .kvCacheMemory(40 * bytesPerToken()).maxModelLen(MAX_LEN).maxNumBatchedTokens(16).maxNumSeqs(4).build();
        try (LLM llm = LLM.of(ModelLoader.open(file), config)) {
            RequestResult r = llm.engine().addBeamSearch("beam", prompt, params).result().join();
            assertThat(r.outputs()).hasSize(3);
            for (int i = 0; i < 3; i++) {
                assertThat(r.outputs().get(i).tokenIds()).as("beam %d", i).containsExactly(reference.get(i).tokens());
            }
            EngineFixtures.assertAllFree(llm.engine());
        }
    }

    /** Two seeded samples per prompt share its blocks (fork) and release them each; the contiguous run keeps all. */
    @Test
    void forkedSamplesMatchARunThatKeepsEveryPosition() throws Exception {
        List<int[]> prompts = prompts().subList(0, 2);
        SamplingParams sampled = SamplingParams.builder().n(2).temperature(0.9f).seed(5L).maxTokens(OUTPUT)
                .ignoreEos(true).build();
        EngineConfig windowed = EngineConfig.builder().blockSize(4).enablePrefixCaching(true)
                .kvCacheMemory(48 * bytesPerToken()).maxModelLen(MAX_LEN).maxNumBatchedTokens(16).maxNumSeqs(4).build();
        List<RequestResult> released;
        try (LLM llm = LLM.of(ModelLoader.open(file), windowed)) {
            released = llm.generateTokens(prompts, sampled);
            EngineFixtures.assertAllFree(llm.engine());
        }
        EngineConfig keepAll = windowed.toBuilder().kvLayout(KvLayout.CONTIGUOUS).kvCacheMemory(4L * MAX_LEN * bytesPerToken())
                .build();
        try (LLM llm = LLM.of(ModelLoader.open(file), keepAll)) {
            List<RequestResult> kept = llm.generateTokens(prompts, sampled);
            for (int i = 0; i < prompts.size(); i++) {
                for (int k = 0; k < 2; k++) {
                    assertThat(released.get(i).outputs().get(k).tokenIds()).as("prompt %d sample %d", i, k)
                            .hasSize(OUTPUT).containsExactly(kept.get(i).outputs().get(k).tokenIds());
                }
            }
            EngineFixtures.assertAllFree(llm.engine());
        }
    }
}
