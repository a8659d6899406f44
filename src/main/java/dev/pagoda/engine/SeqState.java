package dev.pagoda.engine;

import dev.pagoda.constraint.ConstraintState;
import dev.pagoda.sampling.Sampler;
import dev.pagoda.sampling.StopStrings;
import dev.pagoda.sampling.TokenLogprobs;
import dev.pagoda.scheduler.Scheduler;
import dev.pagoda.scheduler.Sequence;
import dev.pagoda.tokenizer.Detokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * One sequence of a request: a parallel sample or a beam, with its own sampler, text and logprobs. Its
 * tokens and KV placement are the scheduler's {@link Sequence}, whose owner is this state.
 */
final class SeqState implements BlockMapPublisher.Owner {
    final RequestState request;
    final int index;
    /** Set once: at construction, or by the scheduler's fork. */
    Sequence<SeqState> seq;
    Sampler sampler;
    Detokenizer detokenizer;
    StopStrings stops;
    /** Guided decoding: where this sequence's output is inside its constraint; null when unconstrained. */
    ConstraintState constraint;
    final StringBuilder text = new StringBuilder();
    List<TokenLogprobs> logprobs;
    double cumulativeLogprob;
    FinishReason finishReason;
    /** The stop string or stop token id that ended it, if one did. */
    StopReason stopReason;
    /** The token drawn ahead for this step on the worker pool, -1 when none (see OutputProcessor's drawAhead). */
    int drawn = -1;
    /** Beam search: the best next tokens of this beam, computed when its logits came out. */
    TokenLogprobs beamCandidates;

    SeqState(RequestState request, int index, long arrival, int maxLength) {
        this.request = request;
        this.index = index;
        this.seq = new Sequence<>(this, arrival, request.prompt, maxLength);
        seq.setCacheable(request.promptLogprobs == null);
        seq.setSeats(request.forked ? 1 : request.width());
    }

    private SeqState(SeqState parent, int index) {
        this.request = parent.request;
        this.index = index;
        this.cumulativeLogprob = parent.cumulativeLogprob;
        this.logprobs = parent.logprobs == null ? null : new ArrayList<>(parent.logprobs);
        this.text.append(parent.text);
        this.constraint = parent.constraint == null ? null : parent.constraint.fork();
    }

    @Override
    public String requestId() {
        return request.id;
    }

    @Override
    public int sampleIndex() {
        return index;
    }

    /** A fork of running {@code parent}: shares its tokens and computed K/V blocks, and is running. */
    static SeqState fork(SeqState parent, int index, Scheduler<SeqState> scheduler) {
        SeqState child = new SeqState(parent, index);
        child.seq = scheduler.fork(parent.seq, child);
        if (child.seq == null) {
            throw new IllegalStateException("the KV layout cannot share blocks between sequences");
        }
        return child;
    }
}
