package dev.pagoda.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pagoda.model.Model;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.sampling.TokenLogprobs;
import java.util.List;
import org.junit.jupiter.api.Test;

/** prompt_logprobs: one entry per prompt token after the first, the same however the prompt is chunked. */
class PromptLogprobsTest {
    @Test
    void promptLogprobsMatchAPlainForwardAndDoNotDependOnChunking() throws Exception {
        String prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
        List<TokenLogprobs> whole = null;
        for (int chunk : new int[] {512, 7}) {
            try (LLM llm = LLM.of(EngineFixtures.stories(), EngineConfig.builder().kvCacheMemory(2L << 20).maxNumBatchedTokens(chunk).build())) {
                RequestResult r = llm.generate(List.of(prompt), SamplingParams.builder().temperature(0).maxTokens(2).promptLogprobs(2).build()).get(0);
                List<TokenLogprobs> lp = r.promptLogprobs();
                assertThat(lp).hasSize(r.promptTokenIds().length - 1);
                for (int i = 0; i < lp.size(); i++) {
                    assertThat(lp.get(i).token()).isEqualTo(r.promptTokenIds()[i + 1]);
                    assertThat(lp.get(i).topIds()).hasSize(2);
                }
                if (whole == null) {
                    whole = lp;
                } else {
                    for (int i = 0; i < lp.size(); i++) {
                        assertThat(lp.get(i).logprob()).isEqualTo(whole.get(i).logprob());
                    }
                }
                EngineFixtures.assertAllFree(llm.engine());
            }
        }
        // Against the dense reference: the logprob of each prompt token given the ones before it.
        try (Model m = EngineFixtures.stories()) {
            int[] tokens = m.tokenizer().encode(prompt, true, false);
            int vocab = m.config().vocabSize();
            float[][] logits = BeamSearchTest.logitsPerPosition(m, tokens);
            for (int i = 0; i + 1 < tokens.length; i++) {
                TokenLogprobs ref = TokenLogprobs.of(logits[i], 0, vocab, tokens[i + 1], 2, new int[vocab]);
                assertThat((double) whole.get(i).logprob()).isCloseTo(ref.logprob(), within(1e-5));
            }
        }
    }
}
