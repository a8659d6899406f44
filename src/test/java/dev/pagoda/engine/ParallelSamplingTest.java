package dev.pagoda.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.kv.KvLayout;
import dev.pagoda.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** n > 1: the prompt is computed once and its blocks are shared by the samples (fork + copy-on-write). */
class ParallelSamplingTest {
    static final String PROMPT = "Once upon a time, there was a little girl named Lily. She loved to play outside";

    static SamplingParams sampled(int n, int bestOf) {
        return SamplingParams.builder().n(n).bestOf(bestOf).temperature(0.9f).topP(0.95f).seed(1234L).maxTokens(40).build();
    }

    @Test
    void samplesShareThePromptAndMatchUnsharedRuns() throws Exception {
        EngineConfig paged = EngineConfig.builder().kvCacheMemory(4L << 20).maxNumSeqs(16).build();
        List<CompletionOutput> shared;
        int sharedPromptTokens;
        try (LLM llm = LLM.of(EngineFixtures.stories(), paged)) {
            RequestResult r = llm.generate(List.of(PROMPT), sampled(4, 4)).get(0);
            shared = r.outputs();
            sharedPromptTokens = (int) llm.engine().stats().promptTokens();
            assertThat(sharedPromptTokens).as("prompt computed once").isEqualTo(r.promptTokenIds().length);
            assertThat(shared).hasSize(4);
            assertThat(shared.stream().map(c -> List.of(c.text())).distinct().count()).as("samples differ").isGreaterThan(1);
            EngineFixtures.assertAllFree(llm.engine());
        }
        // The contiguous baseline cannot share: each sample prefills the prompt itself, yet draws the same tokens.
        try (LLM llm = LLM.of(EngineFixtures.stories(), paged.toBuilder().kvLayout(KvLayout.CONTIGUOUS).build())) {
            RequestResult r = llm.generate(List.of(PROMPT), sampled(4, 4)).get(0);
            assertThat(llm.engine().stats().promptTokens()).isEqualTo(4L * r.promptTokenIds().length);
            for (int i = 0; i < 4; i++) {
                assertThat(r.outputs().get(i).tokenIds()).as("sample %d", i).containsExactly(shared.get(i).tokenIds());
            }
            EngineFixtures.assertAllFree(llm.engine());
        }
    }

    @Test
    void seededSamplesDoNotDependOnTheBatch() throws Exception {
        try (LLM llm = LLM.of(EngineFixtures.stories(), EngineConfig.builder().kvCacheMemory(200 * 1280L).maxModelLen(128)
                .maxNumBatchedTokens(32).maxNumSeqs(16).build())) {
            List<CompletionOutput> alone = llm.generate(List.of(PROMPT), sampled(2, 2)).get(0).outputs();
            List<RequestHandle> crowd = new java.util.ArrayList<>();
            RequestHandle mine;
            try (EngineGate gate = new EngineGate(llm.engine())) { // all admitted at one step boundary
                for (String p : EngineFixtures.prompts(10)) {
                    crowd.add(llm.submit(p, SamplingParams.builder().temperature(0.7f).seed(7L).maxTokens(50).build()));
                }
                mine = llm.submit(PROMPT, sampled(2, 2));
            }
            List<CompletionOutput> batched = mine.result().join().outputs();
            for (RequestHandle h : crowd) {
                h.result().join();
            }
            for (int i = 0; i < 2; i++) {
                assertThat(batched.get(i).tokenIds()).containsExactly(alone.get(i).tokenIds());
            }
            assertThat(llm.engine().stats().preemptions()).as("a small cache preempts").isPositive();
            EngineFixtures.assertAllFree(llm.engine());
        }
    }

    /** Parallel samples of several requests in a small cache: preempted and recomputed, they draw the same tokens. */
    @Test
    void samplesUnderMemoryPressureEqualThoseOfABigCache() throws Exception {
        EngineConfig big = EngineConfig.builder().blockSize(4).kvCacheMemory(4L << 20).maxNumSeqs(16).build();
        List<List<CompletionOutput>> reference = sampleAll(big);
        List<List<CompletionOutput>> tight = sampleAll(big.toBuilder().kvCacheMemory(48 * 4 * 1280L).build());
        for (int p = 0; p < reference.size(); p++) {
            for (int i = 0; i < 3; i++) {
                assertThat(tight.get(p).get(i).tokenIds()).as("prompt %d sample %d", p, i)
                        .containsExactly(reference.get(p).get(i).tokenIds());
            }
        }
    }

    private static List<List<CompletionOutput>> sampleAll(EngineConfig config) throws Exception {
        try (LLM llm = LLM.of(EngineFixtures.stories(), config)) {
            List<RequestHandle> handles = new ArrayList<>();
            try (EngineGate gate = new EngineGate(llm.engine())) { // all admitted at one step boundary
                for (String p : EngineFixtures.prompts(4)) {
                    handles.add(llm.submit(p, sampled(3, 3)));
                }
            }
            List<List<CompletionOutput>> outputs = new ArrayList<>();
            for (RequestHandle h : handles) {
                outputs.add(h.result().get(2, TimeUnit.MINUTES).outputs());
            }
            if (config.kvCacheMemory() < (1 << 20)) {
                assertThat(llm.engine().stats().preemptions()).as("the small cache preempts").isPositive();
            }
            EngineFixtures.assertAllFree(llm.engine());
            return outputs;
        }
    }

    @Test
    void bestOfReturnsTheMostLikelyCandidates() throws Exception {
        try (LLM llm = LLM.of(EngineFixtures.stories(), EngineConfig.builder().kvCacheMemory(4L << 20).maxNumSeqs(16).build())) {
            // Cumulative logprobs are computed when logprobs are requested (or best_of > n), as in vLLM.
            List<CompletionOutput> all = llm.generate(List.of(PROMPT), sampled(5, 5).toBuilder().logprobs(0).build()).get(0).outputs();
            List<CompletionOutput> best = llm.generate(List.of(PROMPT), sampled(2, 5)).get(0).outputs();
            double[] sorted = all.stream().mapToDouble(CompletionOutput::cumulativeLogprob).sorted().toArray();
            assertThat(best).hasSize(2);
            assertThat(best.get(0).cumulativeLogprob()).isEqualTo(sorted[4]);
            assertThat(best.get(1).cumulativeLogprob()).isEqualTo(sorted[3]);
            EngineFixtures.assertAllFree(llm.engine());
        }
    }

    /** Unforked parents hold seats for their samples: a step never runs more than max_num_seqs sequences. */
    @Test
    void forksNeverExceedMaxNumSeqs() throws Exception {
        try (LLM llm = LLM.of(EngineFixtures.stories(), EngineConfig.builder().kvCacheMemory(300 * 1280L).maxModelLen(128)
                .maxNumSeqs(4).maxNumBatchedTokens(64).build())) {
            List<RequestHandle> hs = new java.util.ArrayList<>();
            for (String p : EngineFixtures.prompts(12)) {
                hs.add(llm.submit(p, SamplingParams.builder().n(3).temperature(0.8f).seed(5L).maxTokens(12).build()));
                hs.add(llm.submit(p, SamplingParams.greedy(6)));
            }
            for (RequestHandle h : hs) {
                assertThat(h.result().join().outputs()).isNotEmpty();
            }
            assertThat(llm.engine().stats().peakRunning()).isLessThanOrEqualTo(4);
            EngineFixtures.assertAllFree(llm.engine());
        }
    }
}
