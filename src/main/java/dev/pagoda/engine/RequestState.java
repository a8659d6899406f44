package dev.pagoda.engine;

import dev.pagoda.sampling.Sampler;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.sampling.TokenLogprobs;
import dev.pagoda.scheduler.Sequence;
import dev.pagoda.tokenizer.Detokenizer;
import java.util.ArrayList;
import java.util.List;

/** A request inside the engine: its sequence, sampler, detokenizer, output so far, and timestamps. */
final class RequestState extends Sequence {
    final RequestHandle handle;
    final SamplingParams params;
    final Sampler sampler;
    final Detokenizer detokenizer;
    final StringBuilder text = new StringBuilder();
    final List<TokenLogprobs> logprobs;
    final int[] logprobScratch;
    final long arrivalNanos;
    long firstTokenNanos;
    double cumulativeLogprob;

    RequestState(long arrival, int[] prompt, int maxLength, RequestHandle handle, SamplingParams params, int vocab,
                 Detokenizer detokenizer) {
        super(arrival, prompt, maxLength);
        this.handle = handle;
        this.params = params;
        this.sampler = new Sampler(vocab, params);
        this.detokenizer = detokenizer;
        this.logprobs = params.wantsLogprobs() ? new ArrayList<>() : null;
        this.logprobScratch = params.wantsLogprobs() ? new int[vocab] : null;
        this.arrivalNanos = System.nanoTime();
        for (int t : prompt) {
            detokenizer.next(t);
        }
    }
}
