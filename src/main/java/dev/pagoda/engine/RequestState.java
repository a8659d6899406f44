package dev.pagoda.engine;

import dev.pagoda.PagodaException;
import dev.pagoda.constraint.TokenMatcher;
import dev.pagoda.sampling.BeamSearchParams;
import dev.pagoda.sampling.OutputKind;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.sampling.TokenLogprobs;
import java.util.ArrayList;
import java.util.List;

/**
 * A request inside the engine: its prompt, its parameters, and the sequences it runs. Parallel sampling
 * starts with one sequence that forks into best_of samples after the prompt's prefill (they share the
 * prompt's blocks); beam search keeps up to beam_width live beams and a list of finished hypotheses.
 * Owned by the engine thread.
 */
final class RequestState {
    final String id;
    final RequestHandle handle;
    final int[] prompt;
    final SamplingParams params;
    final BeamSearchParams beam;
    /** Guided decoding: the request's constraint over the model's vocabulary; null when unconstrained. */
    final TokenMatcher matcher;
    final long arrivalNanos = System.nanoTime();
    final List<SeqState> live = new ArrayList<>();
    final List<SeqState> done = new ArrayList<>();
    final List<BeamHypothesis> hypotheses;
    /** Logprobs of prompt tokens 1.., when requested (the first token has none). */
    final List<TokenLogprobs> promptLogprobs;
    long firstScheduledNanos;
    long firstTokenNanos;
    /** Prompt tokens whose K/V came from cached prefix blocks at the first scheduling (what the first step skipped). */
    int cachedPromptTokens;
    /** Parallel sampling: whether the first sequence has already forked into its samples. */
    boolean forked;

    /** A prompt that could never run is refused before it is queued (PagodaException naming the limit). */
    static void checkPrompt(int[] prompt, int maxModelLen, int vocab) {
        if (prompt.length == 0) {
            throw new PagodaException("the prompt has no tokens");
        }
        if (prompt.length >= maxModelLen) {
            throw new PagodaException("the prompt has " + prompt.length + " tokens, but the max model length is " + maxModelLen
                    + " tokens (prompt + at least 1 generated token must fit)");
        }
        for (int t : prompt) {
            if (t < 0 || t >= vocab) {
                throw new PagodaException("token id " + t + " is outside the vocabulary (0.." + (vocab - 1) + ")");
            }
        }
    }

    RequestState(String id, RequestHandle handle, int[] prompt, SamplingParams params, BeamSearchParams beam, TokenMatcher matcher) {
        this.id = id;
        this.handle = handle;
        this.prompt = prompt;
        this.params = params;
        this.beam = beam;
        this.matcher = matcher;
        this.hypotheses = beam != null ? new ArrayList<>() : null;
        this.promptLogprobs = params.promptLogprobs() != null ? new ArrayList<>() : null;
    }

    /** The request's sequences have forked (or never will): each now holds one seat under max_num_seqs. */
    void markForked() {
        forked = true;
        for (SeqState s : live) {
            s.seq.setSeats(1);
        }
    }

    /** Whether a chunk starting at {@code from} still covers prompt positions whose logprobs are missing. */
    boolean wantsPromptLogprobs(int from) {
        return promptLogprobs != null && from < prompt.length - 1 && promptLogprobs.size() < prompt.length - 1;
    }

    /** Sequences a fresh request becomes: best_of for sampling, the beam width for beam search. */
    int width() {
        return beam != null ? beam.beamWidth() : params.bestOf();
    }

    /** Whether deltas are streamed as they come (not when candidates are ranked at the end, nor when asked for the final output only). */
    boolean streams() {
        return beam == null && params.bestOf() == params.n() && params.outputKind() == OutputKind.DELTA;
    }

    /** A finished beam: its output tokens, cumulative logprob and length-penalised score. */
    record BeamHypothesis(int[] tokens, double cumulativeLogprob, double score) {
    }
}
