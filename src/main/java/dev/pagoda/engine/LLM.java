package dev.pagoda.engine;

import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import dev.pagoda.sampling.BeamSearchParams;
import dev.pagoda.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The embeddable API:
 * <pre>{@code
 * try (LLM llm = LLM.open("stories260K", EngineConfig.defaults())) {
 *     List<RequestResult> out = llm.generate(List.of("Once upon a time"), SamplingParams.greedy(64));
 *     RequestHandle h = llm.submit("Lily wanted to", SamplingParams.greedy(64));   // streaming
 *     for (RequestOutput o = h.next(); ; o = h.next()) { System.out.print(o.textDelta()); if (o.finished()) break; }
 * }
 * }</pre>
 * All prompts run together through one engine (continuous batching); results come back in prompt order.
 */
public final class LLM implements AutoCloseable {
    private final Model model;
    private final LLMEngine engine;
    private final AtomicLong ids = new AtomicLong();

    private LLM(Model model, EngineConfig config) {
        this.model = model;
        try {
            this.engine = new LLMEngine(model, config);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Opens a model (file, folder or short name) and starts an engine on it. */
    public static LLM open(String model, EngineConfig config) {
        return new LLM(ModelLoader.load(model), config);
    }

    /** Starts an engine on an already loaded model; closing the LLM closes the model. */
    public static LLM of(Model model, EngineConfig config) {
        return new LLM(model, config);
    }

    public LLMEngine engine() {
        return engine;
    }

    public Model model() {
        return model;
    }

    public RequestHandle submit(String prompt, SamplingParams params) {
        return engine.addRequest(nextId(), prompt, params);
    }

    public RequestHandle submit(int[] promptTokens, SamplingParams params) {
        return engine.addRequest(nextId(), promptTokens, params);
    }

    /** Beam search on a tokenized prompt (paged layout). */
    public RequestHandle submitBeamSearch(int[] promptTokens, BeamSearchParams params) {
        return engine.addBeamSearch(nextId(), promptTokens, params);
    }

    /** Runs every prompt together and returns their results in prompt order. */
    public List<RequestResult> generate(List<String> prompts, SamplingParams params) {
        return generateTokens(prompts.stream().map(p -> model.tokenizer().encode(p, true, false)).toList(), params);
    }

    /** Runs every tokenized prompt together and returns their results in order. */
    public List<RequestResult> generateTokens(List<int[]> prompts, SamplingParams params) {
        // Only results are read: nothing is queued per token (see OutputKind). All added in one step boundary.
        List<String> requestIds = prompts.stream().map(p -> nextId()).toList();
        return awaitAll(engine.addRequests(requestIds, prompts, params.finalOnly()));
    }

    private static List<RequestResult> awaitAll(List<RequestHandle> handles) {
        List<RequestResult> results = new ArrayList<>();
        for (RequestHandle h : handles) {
            try {
                results.add(h.result().join());
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException re ? re : e;
            }
        }
        return results;
    }

    private String nextId() {
        return "req-" + ids.incrementAndGet();
    }

    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            model.close();
        }
    }
}
