package dev.pagoda.engine;

import dev.pagoda.TestData;
import dev.pagoda.kv.KvMemoryUsage;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import dev.pagoda.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Shared prompts, solo references and the end-of-test pool check for engine tests. */
final class EngineFixtures {
    static final String[] STARTERS = {
            "Once upon a time", "Lily wanted to", "The little dog", "One day, Tom", "There was a big tree",
            "Sam and Mia went", "The sun was", "A cat named", "Mom said", "In the park,",
            "The bird flew", "Ben had a red", "It was a cold", "The girl saw", "Max liked to",
            "The boy ran", "Sara found a", "They played with", "The fish swam", "At night, the",
            "Tim was sad", "The old man", "She opened the box", "A big bear", "The car was",
            "Anna and her mom", "The toy", "He looked up", "The flowers", "Jack wanted a",
            "The rain", "Once there was a tiny"};

    private EngineFixtures() {
    }

    static Model stories() {
        return ModelLoader.open(TestData.path("models/stories260K/stories260K.bin"));
    }

    static List<String> prompts(int n) {
        List<String> p = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            p.add(STARTERS[i % STARTERS.length]);
        }
        return p;
    }

    private static final java.util.Map<String, int[]> SOLO = new java.util.concurrent.ConcurrentHashMap<>();

    /** Each prompt generated alone through the dense reference path (the foundation's generator); memoized. */
    static List<int[]> soloGreedy(Model m, List<String> prompts, int maxTokens) {
        Generator g = new Generator(m, 64);
        List<int[]> out = new ArrayList<>();
        for (String p : prompts) {
            out.add(SOLO.computeIfAbsent(m.source() + "|" + maxTokens + "|" + p, k ->
                    g.generate(m.tokenizer().encode(p, true, false), SamplingParams.greedy(maxTokens), null, null).output().tokenIds()));
        }
        return out;
    }

    /** Every KV block is back in the pool and nothing is swapped, running or waiting. */
    static void assertAllFree(LLMEngine engine) throws InterruptedException {
        engine.awaitIdle();
        KvMemoryUsage u = engine.kvUsage();
        assertThat(u.blocksUsed()).as("blocks still in use").isZero();
        assertThat(u.sequences()).isZero();
        assertThat(u.freeSlots()).isEqualTo(u.totalSlots());
        EngineStats.Snapshot s = engine.stats();
        assertThat(s.running() + s.waiting() + s.swapped()).isZero();
        assertThat(s.swapEmpty()).as("swap space empty").isTrue();
    }
}
