package dev.pagoda.engine;

import dev.pagoda.constraint.ConstraintState;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.sampling.Sampler;
import dev.pagoda.sampling.StopStrings;
import dev.pagoda.sampling.TokenLogprobs;
import dev.pagoda.scheduler.Sequence;
import dev.pagoda.tokenizer.Detokenizer;
import java.util.ArrayList;
import java.util.List;

/** One sequence of a request: a parallel sample or a beam, with its own sampler, text and logprobs. */
final class SeqState extends Sequence {
    final RequestState request;
    final int index;
    Sampler sampler;
    Detokenizer detokenizer;
    StopStrings stops;
    /** Guided decoding: where this sequence's output is inside its constraint; null when unconstrained. */
    ConstraintState constraint;
    StringBuilder text = new StringBuilder();
    List<TokenLogprobs> logprobs;
    double cumulativeLogprob;
    FinishReason finishReason;
    /** Beam search: the best next tokens of this beam, computed when its logits came out. */
    TokenLogprobs beamCandidates;

    SeqState(RequestState request, int index, long arrival, int maxLength) {
        super(arrival, request.prompt, maxLength);
        this.request = request;
        this.index = index;
    }

    /** A fork of {@code parent}: shares its tokens and (through {@code kv}) its computed K/V blocks. */
    SeqState(SeqState parent, int index, KvSequence kv) {
        super(parent.arrival(), parent, kv);
        this.request = parent.request;
        this.index = index;
        this.cumulativeLogprob = parent.cumulativeLogprob;
        this.logprobs = parent.logprobs == null ? null : new ArrayList<>(parent.logprobs);
        this.text.append(parent.text);
        this.constraint = parent.constraint == null ? null : parent.constraint.fork();
    }

    @Override
    public boolean cacheable() {
        return request.promptLogprobs == null;
    }

    @Override
    public int width() {
        return request.forked ? 1 : request.width();
    }
}
