package dev.pagoda.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagoda.PagodaException;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.scheduler.PreemptionMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Aborts in every state free blocks at once and leave the others' outputs alone; impossible requests are rejected. */
class AbortAndRejectTest {
    static final int MAX_TOKENS = 48;

    @Test
    void abortInEveryStateLeavesOthersUnchanged() throws Exception {
        // Long prompts prefill over several 8-token steps; 24 of them overflow a 240-slot cache and get swapped.
        List<String> prompts = new ArrayList<>();
        for (String s : EngineFixtures.prompts(24)) {
            prompts.add(s + " and then they went to the park to play with the ball all day long");
        }
        List<int[]> solo;
        try (var m = EngineFixtures.stories()) {
            solo = EngineFixtures.soloGreedy(m, prompts, MAX_TOKENS);
        }
        EngineConfig config = EngineConfig.builder().kvCacheMemory(240 * 1280L).maxModelLen(128).maxNumBatchedTokens(8)
                .maxNumSeqs(24).preemptionMode(PreemptionMode.SWAP).swapSpace(64L * 1280 * 16).build();
        try (LLM llm = LLM.of(EngineFixtures.stories(), config)) {
            LLMEngine engine = llm.engine();
            List<RequestHandle> handles = new ArrayList<>();
            Set<String> wanted = new HashSet<>(List.of("waiting", "prefilling", "decoding", "swapped"));
            Map<String, String> abortedIn = new HashMap<>();
            // After each step, on the engine thread, a request found in a state not yet caught is aborted in it:
            // the same schedule and the same aborts on every run, whatever the speed of the engine or of this thread.
            engine.setStepHook(() -> {
                for (RequestHandle h : handles) {
                    String state = engine.stateOf(h.id());
                    if (wanted.remove(state)) {
                        abortedIn.put(h.id(), state);
                        engine.abortNow(h.id());
                    }
                }
            });
            try (EngineGate gate = new EngineGate(engine)) { // all admitted at one step boundary
                for (String p : prompts) {
                    handles.add(llm.submit(p, SamplingParams.greedy(MAX_TOKENS)));
                }
            }
            engine.awaitIdle(); // on the engine thread: what its hook recorded is seen here
            engine.setStepHook(null);
            assertThat(wanted).as("states never caught to abort in").isEmpty();
            for (int i = 0; i < handles.size(); i++) {
                RequestResult r = handles.get(i).result().join();
                if (abortedIn.containsKey(handles.get(i).id())) {
                    assertThat(r.output().finishReason()).isEqualTo(FinishReason.ABORT);
                } else {
                    assertThat(r.output().tokenIds()).as("request %d", i).containsExactly(solo.get(i));
                }
            }
            EngineFixtures.assertAllFree(engine);
        }
    }

    @Test
    void impossibleRequestsAreRejectedAndTheEngineGoesOn() throws Exception {
        EngineConfig config = EngineConfig.builder().kvCacheMemory(200 * 1280L).maxModelLen(64).maxNumSeqs(4).build();
        try (LLM llm = LLM.of(EngineFixtures.stories(), config)) {
            RequestHandle ok = llm.submit("Once upon a time", SamplingParams.greedy(20));
            int[] tooLong = new int[64];
            java.util.Arrays.fill(tooLong, 261);
            assertThatThrownBy(() -> llm.submit(tooLong, SamplingParams.greedy(5)))
                    .isInstanceOf(PagodaException.class).hasMessageContaining("max model length is 64");
            assertThatThrownBy(() -> llm.submit("x", SamplingParams.builder().n(5).maxTokens(3).build()))
                    .isInstanceOf(PagodaException.class).hasMessageContaining("--max-num-seqs 4");
            assertThatThrownBy(() -> llm.submit(new int[] {1, 9999}, SamplingParams.greedy(5)))
                    .isInstanceOf(PagodaException.class).hasMessageContaining("outside the vocabulary");
            // Added together: one impossible prompt rejects the list and none of it runs.
            assertThatThrownBy(() -> llm.generateTokens(List.of(new int[] {1, 2, 3}, tooLong), SamplingParams.greedy(5)))
                    .isInstanceOf(PagodaException.class).hasMessageContaining("max model length is 64");
            assertThat(ok.result().join().output().tokenIds()).hasSize(20);
            assertThat(llm.engine().stats().requestsAdded()).isEqualTo(1);
            EngineFixtures.assertAllFree(llm.engine());
        }
        // A max model length beyond the KV cache can never run: rejected at start, naming both limits.
        assertThatThrownBy(() -> LLM.of(EngineFixtures.stories(), EngineConfig.builder().kvCacheMemory(100 * 1280L).maxModelLen(256).build()))
                .isInstanceOf(PagodaException.class).hasMessageContaining("--max-model-len 256").hasMessageContaining("KV cache");
    }
}
