package dev.pagoda.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.sampling.SamplingParams;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stop strings, stop token ids and min_tokens through the engine, streamed and whole. */
class StopConditionsTest {
    static final String PROMPT = "Once upon a time";

    @Test
    void stopStringsEndTheTextAndStreamTheSameText() throws Exception {
        try (LLM llm = LLM.of(EngineFixtures.stories(), EngineConfig.builder().kvCacheMemory(2L << 20).build())) {
            String full = llm.generate(List.of(PROMPT), SamplingParams.greedy(60)).get(0).output().text();
            assertThat(full).contains(" park");
            SamplingParams stop = SamplingParams.builder().temperature(0).maxTokens(60).stop(List.of("the park", "zebra")).build();
            RequestHandle h = llm.submit(PROMPT, stop);
            StringBuilder streamed = new StringBuilder();
            for (RequestOutput o = h.next(); ; o = h.next()) {
                streamed.append(o.textDelta());
                if (o.finished()) {
                    assertThat(o.stopReason()).isEqualTo(StopReason.string("the park"));
                    break;
                }
                assertThat(o.stopReason()).isNull();
            }
            CompletionOutput c = h.result().join().output();
            assertThat(c.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(c.stopReason()).as("the stop string that matched").isEqualTo(StopReason.string("the park"));
            assertThat(c.text()).isEqualTo(full.substring(0, full.indexOf("the park")));
            assertThat(streamed.toString()).isEqualTo(c.text());

            SamplingParams keep = stop.toBuilder().includeStopStrInOutput(true).build();
            assertThat(llm.generate(List.of(PROMPT), keep).get(0).output().text()).isEqualTo(full.substring(0, full.indexOf("the park") + 8));
            EngineFixtures.assertAllFree(llm.engine());
        }
    }

    @Test
    void stopTokenIdsAndMinTokens() throws Exception {
        try (LLM llm = LLM.of(EngineFixtures.stories(), EngineConfig.builder().kvCacheMemory(2L << 20).build())) {
            int[] greedy = llm.generate(List.of(PROMPT), SamplingParams.greedy(30)).get(0).output().tokenIds();
            int stopAt = greedy[5];
            CompletionOutput c = llm.generate(List.of(PROMPT), SamplingParams.builder().temperature(0).maxTokens(30).stopTokenIds(stopAt).build())
                    .get(0).output();
            int first = 0;
            while (greedy[first] != stopAt) {
                first++;
            }
            assertThat(c.tokenIds()).hasSize(first + 1);
            assertThat(c.finishReason()).isEqualTo(FinishReason.STOP);
            assertThat(c.stopReason()).as("the stop token id that matched").isEqualTo(StopReason.token(stopAt));
            assertThat(llm.generate(List.of(PROMPT), SamplingParams.greedy(30)).get(0).output().stopReason()).as("length").isNull();
            // min_tokens bans stop tokens until enough tokens are out.
            CompletionOutput late = llm.generate(List.of(PROMPT), SamplingParams.builder().temperature(0).maxTokens(30)
                    .stopTokenIds(stopAt).minTokens(first + 2).build()).get(0).output();
            assertThat(late.tokenIds().length).isGreaterThan(first + 1);
            EngineFixtures.assertAllFree(llm.engine());
        }
    }
}
