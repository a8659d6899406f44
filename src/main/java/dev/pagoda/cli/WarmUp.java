package dev.pagoda.cli;

import dev.pagoda.engine.LLM;
import dev.pagoda.sampling.SamplingParams;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Generations run before serve listens, so that the first clients meet compiled kernels rather than the
 * interpreter and the JIT's compilations (vLLM runs a forward pass at start-up too, there to size its memory).
 * Each round runs one prompt alone, then a batch of them, through the engine: the single-token and the batched
 * paths of prefill and decode. Bounded by rounds and by time: a tiny model (the tests') is done in a fraction of a
 * second, a large one after about one round. Its tokens count in the engine's metrics, as any request's.
 */
final class WarmUp {
    private static final int ROUNDS = 24;
    private static final long BUDGET_NANOS = 2_000_000_000L;
    private static final int BATCH = 8;
    private static final int NEW_TOKENS = 8;

    private WarmUp() {
    }

    /** Runs the warm-up; returns a line saying what it ran. */
    static String run(LLM llm) {
        int maxModelLen = llm.engine().maxModelLen();
        if (maxModelLen < 2) {
            return "warm-up: skipped (a context of " + maxModelLen + " token holds no prompt and answer)";
        }
        int[] tokens = llm.model().tokenizer().encode("Once upon a time, in a warm little town", true, false);
        int[] prompt = Arrays.copyOf(tokens, Math.max(1, Math.min(tokens.length, maxModelLen / 2)));
        SamplingParams params = SamplingParams.greedy(Math.max(1, Math.min(NEW_TOKENS, maxModelLen - prompt.length))).withIgnoreEos(true);
        long start = System.nanoTime();
        int rounds = 0;
        while (rounds < ROUNDS && System.nanoTime() - start < BUDGET_NANOS) {
            llm.generateTokens(List.of(prompt), params);
            llm.generateTokens(Collections.nCopies(BATCH, prompt), params);
            rounds++;
        }
        return String.format("warm-up: %d rounds of 1 and %d prompts of %d tokens, %d new tokens each, in %d ms", rounds, BATCH,
                prompt.length, params.maxTokens(), (System.nanoTime() - start) / 1_000_000);
    }
}
