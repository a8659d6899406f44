package dev.pagoda.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Automatic prefix caching changes what is computed, never what is generated. */
class PrefixCachingTest {
    static final String SHARED = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball.";

    static List<String> prompts() {
        List<String> p = new ArrayList<>();
        for (String s : EngineFixtures.prompts(16)) {
            p.add(SHARED + " " + s);
        }
        return p;
    }

    static List<RequestResult> run(boolean caching, SamplingParams params, long kvSlots) {
        EngineConfig config = EngineConfig.builder().enablePrefixCaching(caching).kvCacheMemory(kvSlots * 1280).maxModelLen(160)
                .maxNumBatchedTokens(48).maxNumSeqs(16).build();
        try (LLM llm = LLM.of(EngineFixtures.stories(), config)) {
            List<RequestResult> out = llm.generate(prompts(), params);
            EngineFixtures.assertAllFree(llm.engine());
            return out;
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void tokensAreIdenticalWithCachingOnAndOff() {
        for (SamplingParams params : List.of(SamplingParams.greedy(40),
                SamplingParams.builder().temperature(0.8f).topK(40).seed(99L).maxTokens(40).build())) {
            for (long slots : new long[] {4000, 700}) {
                List<RequestResult> off = run(false, params, slots);
                List<RequestResult> on = run(true, params, slots);
                for (int i = 0; i < off.size(); i++) {
                    assertThat(on.get(i).output().tokenIds()).as("prompt %d, %d slots", i, slots).containsExactly(off.get(i).output().tokenIds());
                }
            }
        }
    }

    @Test
    void aRepeatedPromptComputesOnlyItsLastPartialBlock() throws Exception {
        try (LLM llm = LLM.of(EngineFixtures.stories(), EngineConfig.builder().kvCacheMemory(2000 * 1280L).maxModelLen(256).build())) {
            int[] prompt = llm.model().tokenizer().encode(SHARED + " " + SHARED, true, false);
            int length = prompt.length;
            llm.generateTokens(List.of(prompt), SamplingParams.greedy(4));
            long before = llm.engine().stats().promptTokens();
            assertThat(before).isEqualTo(length);
            RequestResult again = llm.generateTokens(List.of(prompt), SamplingParams.greedy(4)).get(0);
            EngineStats.Snapshot s = llm.engine().stats();
            int cached = (length - 1) / 16 * 16;
            assertThat(s.promptTokens() - before).as("computed prompt tokens of the repeat (length %d)", length).isEqualTo(length - cached);
            assertThat(s.prefixHitTokens()).isEqualTo(cached);
            assertThat(s.prefixQueriedTokens()).isEqualTo(2L * length);
            assertThat(again.output().tokenIds()).hasSize(4);
            assertThat(again.metrics().cachedPromptTokens()).as("the request's own count of cached prompt tokens").isEqualTo(cached);
            EngineFixtures.assertAllFree(llm.engine());
        }
    }
}
