package dev.pagoda.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.constraint.Constraint;
import dev.pagoda.constraint.TestSchemas;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.sampling.TokenLogprobs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Guided decoding through the engine: every seeded sample of every acceptance schema parses and validates
 * (an independent validator), on stories260K (SentencePiece with byte fallback) and a synthetic byte-level
 * BPE model; regex, choice, grammar and json_object outputs match; a value the budget cannot finish ends
 * with length and frees its blocks; outputs stay batch-invariant.
 */
class GuidedDecodingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SAMPLES = 200;
    private static final int PER_REQUEST = 50;
    private static final String PROMPT = "Once upon a time";

    private static EngineConfig config() {
        return EngineConfig.builder().kvCacheMemory(16L << 20).maxNumSeqs(256).maxNumBatchedTokens(512).build();
    }

    private static SamplingParams guided(Constraint c, long seed, int n) {
        return SamplingParams.builder().constraint(c).temperature(1f).seed(seed).n(n).maxTokens(400).build();
    }

    @Test
    void everySchemaSampleValidatesOnStories() throws Exception {
        everySchemaSampleValidates(EngineFixtures::stories);
    }

    @Test
    void everySchemaSampleValidatesOnASyntheticByteLevelModel() throws Exception {
        everySchemaSampleValidates(() -> ModelLoader.load("synth:tiny:f32"));
    }

    private void everySchemaSampleValidates(Supplier<Model> model) throws Exception {
        try (LLM llm = LLM.of(model.get(), config().toBuilder().maxModelLen(512).build())) {
            for (Map.Entry<String, String> e : TestSchemas.ALL.entrySet()) {
                Constraint c = Constraint.jsonSchema(e.getValue());
                List<RequestHandle> handles = new ArrayList<>();
                for (int i = 0; i < SAMPLES / PER_REQUEST; i++) {
                    handles.add(llm.submit(PROMPT, guided(c, 1000 + i, PER_REQUEST)));
                }
                int seen = 0;
                for (RequestHandle h : handles) {
                    for (CompletionOutput o : h.result().join().outputs()) {
                        seen++;
                        assertThat(o.finishReason()).as("%s: %s", e.getKey(), o.text()).isEqualTo(FinishReason.STOP);
                        JSON.readTree(o.text());
                        assertThat(TestSchemas.validate(e.getValue(), o.text())).as("%s: %s", e.getKey(), o.text()).isEmpty();
                    }
                }
                assertThat(seen).isEqualTo(SAMPLES);
            }
            EngineFixtures.assertAllFree(llm.engine());
        }
    }

    @Test
    void regexChoiceGrammarAndJsonObjectOutputsMatch() throws Exception {
        try (LLM llm = LLM.of(EngineFixtures.stories(), config())) {
            String regex = "[a-z]{2,6}@[a-z]{2,5}\\.(com|org)";
            List<String> choices = List.of("yes", "no", "maybe later", "été");
            String grammar = """
                    root ::= greeting " " name ("!" | ".")
                    greeting ::= "hi" | "hello"   # a comment
                    name ::= [A-Z] [a-z]{1,4}
                    """;
            for (CompletionOutput o : run(llm, Constraint.regex(regex), 50)) {
                assertThat(o.text()).matches(regex);
            }
            for (CompletionOutput o : run(llm, Constraint.choice(choices), 50)) {
                assertThat(choices).contains(o.text());
            }
            for (CompletionOutput o : run(llm, Constraint.grammar(grammar), 50)) {
                assertThat(o.text()).matches("(hi|hello) [A-Z][a-z]{1,4}[!.]");
            }
            for (CompletionOutput o : run(llm, Constraint.jsonObject(), 50)) {
                JSON.readTree(o.text());
            }
            EngineFixtures.assertAllFree(llm.engine());
        }
    }

    private static List<CompletionOutput> run(LLM llm, Constraint c, int n) {
        List<CompletionOutput> out = llm.generate(List.of(PROMPT), guided(c, 42, n)).getFirst().outputs();
        for (CompletionOutput o : out) {
            assertThat(o.finishReason()).as(o.text()).isEqualTo(FinishReason.STOP);
        }
        return out;
    }

    @Test
    void aValueTheBudgetCannotFinishEndsWithLengthAndFreesItsBlocks() throws Exception {
        try (LLM llm = LLM.of(EngineFixtures.stories(), config())) {
            Constraint c = Constraint.jsonSchema("{\"type\":\"string\",\"minLength\":300}");
            RequestResult r = llm.generate(List.of(PROMPT), SamplingParams.builder().constraint(c).temperature(1f).seed(3L)
                    .n(4).maxTokens(20).build()).getFirst();
            for (CompletionOutput o : r.outputs()) {
                assertThat(o.finishReason()).isEqualTo(FinishReason.LENGTH);
                assertThat(o.tokenIds()).hasSize(20);
                assertThat(o.text()).startsWith("\"");
            }
            EngineFixtures.assertAllFree(llm.engine());
        }
    }

    @Test
    void guidedSamplesDoNotDependOnTheBatchOrPreemption() throws Exception {
        Constraint c = Constraint.jsonSchema(TestSchemas.ALL.get("nested"));
        SamplingParams p = guided(c, 77, 3).toBuilder().logprobs(2).build();
        List<CompletionOutput> alone;
        try (LLM llm = LLM.of(EngineFixtures.stories(), config())) {
            alone = llm.generate(List.of(PROMPT), p).getFirst().outputs();
        }
        try (LLM llm = LLM.of(EngineFixtures.stories(), EngineConfig.builder().kvCacheMemory(300 * 1280L).maxModelLen(160)
                .maxNumBatchedTokens(32).maxNumSeqs(16).enablePrefixCaching(true).build())) {
            List<RequestHandle> crowd = new ArrayList<>();
            RequestHandle mine;
            try (EngineGate gate = new EngineGate(llm.engine())) { // all admitted at one step boundary
                for (String q : EngineFixtures.prompts(4)) {
                    crowd.add(llm.submit(q, SamplingParams.builder().temperature(0.7f).seed(7L).maxTokens(60).build()));
                    crowd.add(llm.submit(q, guided(Constraint.jsonSchema(TestSchemas.ALL.get("person")), 9, 1)));
                }
                mine = llm.submit(PROMPT, p);
            }
            List<CompletionOutput> batched = mine.result().join().outputs();
            crowd.forEach(h -> h.result().join());
            for (int i = 0; i < alone.size(); i++) {
                assertThat(batched.get(i).tokenIds()).containsExactly(alone.get(i).tokenIds());
                assertThat(batched.get(i).text()).isEqualTo(alone.get(i).text());
            }
            assertThat(llm.engine().stats().preemptions()).as("a small cache preempts").isPositive();
            EngineFixtures.assertAllFree(llm.engine());
        }
    }

    @Test
    void logprobsAreTheMaskedDistribution() throws Exception {
        try (LLM llm = LLM.of(EngineFixtures.stories(), config())) {
            List<String> choices = List.of("yes", "no");
            SamplingParams p = SamplingParams.builder().constraint(Constraint.choice(choices)).temperature(0).logprobs(5).maxTokens(10).build();
            CompletionOutput o = llm.generate(List.of(PROMPT), p).getFirst().outputs().getFirst();
            assertThat(choices).contains(o.text());
            TokenLogprobs first = o.logprobs().getFirst();
            double mass = 0;
            for (int i = 0; i < first.topIds().length; i++) {
                if (first.topLogprobs()[i] > Float.NEGATIVE_INFINITY) {
                    String piece = new String(llm.model().tokenizer().tokenBytes(first.topIds()[i]), java.nio.charset.StandardCharsets.UTF_8);
                    assertThat(choices.stream().anyMatch(ch -> ch.startsWith(piece))).as(piece).isTrue();
                    mass += Math.exp(first.topLogprobs()[i]);
                }
            }
            assertThat(mass).as("allowed tokens hold all the mass").isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-3));
            EngineFixtures.assertAllFree(llm.engine());
        }
    }
}
