package dev.pagoda.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.kv.KvLayout;
import dev.pagoda.model.Model;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.scheduler.PreemptionMode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Batch invariance: 32 prompts run together, with chunked prefills and a KV cache small enough to force
 * preemption, give each request exactly the greedy tokens it gets alone; afterwards every block is free.
 */
class ContinuousBatchingTest {
    static final int MAX_TOKENS = 60;
    /** stories260K stores 5 layers x 2 x 4 heads x 8 floats = 1280 bytes of K/V per token. */
    static final int BYTES_PER_TOKEN = 1280;

    /**
     * Small paged caches run out of blocks as sequences grow and must preempt. A contiguous layout reserves
     * each request's maximum length at admission, so it never preempts: it admits fewer instead.
     */
    @ParameterizedTest(name = "{0} {1} block {2} kv slots {3} step tokens {4}")
    @CsvSource({
            "PAGED, RECOMPUTE, 16, 320, 24, true",
            "PAGED, SWAP, 16, 320, 24, true",
            "PAGED, RECOMPUTE, 1, 300, 7, true",
            "PAGED, RECOMPUTE, 256, 512, 64, false",
            "CONTIGUOUS, RECOMPUTE, 16, 800, 24, false",
            "CONTIGUOUS, SWAP, 16, 800, 24, false",
            "PAGED, RECOMPUTE, 16, 20000, 512, false",
    })
    void everyRequestMatchesItsSoloRun(KvLayout layout, PreemptionMode mode, int blockSize, int kvSlots, int stepTokens,
                                       boolean preempts) throws Exception {
        List<String> prompts = EngineFixtures.prompts(32);
        try (Model reference = EngineFixtures.stories()) {
            List<int[]> solo = EngineFixtures.soloGreedy(reference, prompts, MAX_TOKENS);
            EngineConfig config = EngineConfig.builder().kvLayout(layout).preemptionMode(mode).blockSize(blockSize)
                    .kvCacheMemory((long) kvSlots * BYTES_PER_TOKEN).maxModelLen(Math.min(kvSlots, 256))
                    .maxNumBatchedTokens(stepTokens).maxNumSeqs(32).swapSpace(4L << 20).build();
            try (LLM llm = LLM.of(EngineFixtures.stories(), config)) {
                List<RequestResult> batch = llm.generate(prompts, SamplingParams.greedy(MAX_TOKENS));
                for (int i = 0; i < prompts.size(); i++) {
                    assertThat(batch.get(i).output().tokenIds()).as("prompt %d '%s'", i, prompts.get(i)).containsExactly(solo.get(i));
                }
                EngineStats.Snapshot s = llm.engine().stats();
                if (preempts) {
                    assertThat(s.preemptions()).as("the small KV cache forces preemption").isPositive();
                    if (mode == PreemptionMode.SWAP) {
                        assertThat(s.swapPreemptions()).isPositive();
                    }
                } else {
                    assertThat(s.preemptions()).isZero();
                }
                if (layout == KvLayout.CONTIGUOUS) {
                    assertThat(s.peakRunning()).as("reservations of up to 256 slots in 800").isLessThanOrEqualTo(800 / 61);
                }
                EngineFixtures.assertAllFree(llm.engine());
            }
        }
    }

    /**
     * Seeded samples (temperature, top_p, a repetition penalty) of 40 requests decoding together, whose draws the
     * engine makes ahead on the worker pool, are the tokens each request draws alone.
     */
    @Test
    void seededSamplesMatchTheirSoloRuns() throws Exception {
        List<String> prompts = EngineFixtures.prompts(40);
        SamplingParams params = SamplingParams.builder().temperature(0.9f).topP(0.95f).repetitionPenalty(1.1f).seed(7L)
                .maxTokens(24).build();
        try (Model reference = EngineFixtures.stories()) {
            Generator solo = new Generator(reference, 64);
            EngineConfig config = EngineConfig.builder().maxNumSeqs(40).maxNumBatchedTokens(2048).build();
            try (LLM llm = LLM.of(EngineFixtures.stories(), config)) {
                List<RequestResult> batch = llm.generate(prompts, params);
                for (int i = 0; i < prompts.size(); i++) {
                    int[] alone = solo.generate(reference.tokenizer().encode(prompts.get(i), true, false), params, null, null)
                            .output().tokenIds();
                    assertThat(batch.get(i).output().tokenIds()).as("prompt %d", i).containsExactly(alone);
                }
                assertThat(llm.engine().stats().peakRunning()).as("all decode together").isEqualTo(40);
                EngineFixtures.assertAllFree(llm.engine());
            }
        }
    }
}
