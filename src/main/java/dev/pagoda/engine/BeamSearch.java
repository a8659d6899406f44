package dev.pagoda.engine;

import dev.pagoda.model.Model;
import dev.pagoda.sampling.BeamSearchParams;
import dev.pagoda.sampling.TokenLogprobs;
import dev.pagoda.scheduler.Scheduler;
import dev.pagoda.tokenizer.Detokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;
import java.util.function.IntToDoubleFunction;

/**
 * Beam search: its own step after the model ran (keep the beam_width best continuations over all beams of a
 * request, forking and dropping beams), its selection rule, and the ranking of its finished hypotheses.
 * Engine thread only.
 */
final class BeamSearch {
    private final Model model;
    private final Scheduler<SeqState> scheduler;
    private final EngineStats stats;
    private final Consumer<RequestState> finishRequest;
    /** Requests with a beam whose candidates came out this step. */
    private final List<RequestState> pending = new ArrayList<>();

    BeamSearch(Model model, Scheduler<SeqState> scheduler, EngineStats stats, Consumer<RequestState> finishRequest) {
        this.model = model;
        this.scheduler = scheduler;
        this.stats = stats;
        this.finishRequest = finishRequest;
    }

    /** A beam's best next tokens, from its logits this step. */
    void collect(SeqState beam, TokenLogprobs candidates) {
        beam.beamCandidates = candidates;
        if (!pending.contains(beam.request)) {
            pending.add(beam.request);
        }
    }

    /** Steps every request whose beams all have their candidates. */
    void step() {
        for (int i = 0; i < pending.size(); i++) {
            step(pending.get(i));
        }
        pending.clear();
    }

    /**
     * Once every live beam has its candidates, keep the beam_width best continuations over all beams. A beam
     * continued once keeps its sequence; continued several times it forks (sharing its blocks); not continued,
     * it is dropped and its blocks are freed at once.
     */
    private void step(RequestState r) {
        for (SeqState s : r.live) {
            if (s.beamCandidates == null) {
                return;
            }
        }
        BeamSearchParams bp = r.beam;
        int width = bp.beamWidth();
        List<SeqState> beams = List.copyOf(r.live);
        Selection sel = select(beams.size(), i -> beams.get(i).cumulativeLogprob,
                i -> beams.get(i).beamCandidates, width, bp.ignoreEos() ? t -> false : model::isStopToken);
        for (Candidate c : sel.finished()) {
            SeqState parent = beams.get(c.beam());
            int[] out = Arrays.copyOfRange(parent.seq.tokens(), r.prompt.length, parent.seq.length() + 1);
            out[out.length - 1] = c.token();
            r.hypotheses.add(new RequestState.BeamHypothesis(out, c.cumulativeLogprob(), bp.score(c.cumulativeLogprob(), parent.seq.length())));
        }
        int[] uses = new int[beams.size()];
        for (Candidate c : sel.continued()) {
            uses[c.beam()]++;
        }
        List<SeqState> next = new ArrayList<>();
        int index = 0;
        for (Candidate c : sel.continued()) {
            SeqState parent = beams.get(c.beam());
            SeqState beam;
            if (--uses[c.beam()] > 0) {
                beam = SeqState.fork(parent, index++, scheduler);
                r.live.add(beam);
            } else {
                beam = parent;
            }
            beam.cumulativeLogprob = c.cumulativeLogprob();
            next.add(beam);
        }
        for (SeqState old : beams) {
            if (!next.contains(old)) {
                scheduler.finish(old.seq);
                r.live.remove(old);
            }
        }
        r.markForked();
        boolean atLimit = false;
        for (int i = 0; i < next.size(); i++) {
            SeqState beam = next.get(i);
            beam.beamCandidates = null;
            beam.seq.append(sel.continued().get(i).token());
            stats.generationTokens++;
            atLimit |= beam.seq.outputLength() >= bp.maxTokens() || beam.seq.length() >= beam.seq.maxLength();
        }
        if (atLimit || next.isEmpty() || done(bp, r.hypotheses, next.stream().mapToDouble(s -> s.cumulativeLogprob).max().orElse(0),
                next.isEmpty() ? 0 : next.get(0).seq.length())) {
            finish(r, atLimit || r.hypotheses.size() < width);
        }
    }

    /**
     * The request's beams can never be placed together again (their request outgrew the KV cache): the search
     * ends with its finished hypotheses and its beams as they are.
     */
    void end(RequestState r) {
        if (!r.live.isEmpty()) {
            finish(r, true);
        }
    }

    /** Ends the search: the live beams become hypotheses too when {@code keepBeams}; their blocks are freed. */
    private void finish(RequestState r, boolean keepBeams) {
        for (SeqState beam : List.copyOf(r.live)) {
            if (keepBeams) {
                r.hypotheses.add(new RequestState.BeamHypothesis(Arrays.copyOfRange(beam.seq.tokens(), r.prompt.length, beam.seq.length()),
                        beam.cumulativeLogprob, r.beam.score(beam.cumulativeLogprob, beam.seq.length())));
            }
            scheduler.finish(beam.seq);
            r.live.remove(beam);
        }
        finishRequest.accept(r);
    }

    /** The beam_width best hypotheses by score; a hypothesis ending in EOS has its text without it. */
    List<CompletionOutput> outputs(RequestState r) {
        List<RequestState.BeamHypothesis> best = new ArrayList<>(r.hypotheses);
        best.sort((a, b) -> Double.compare(b.score(), a.score()));
        List<CompletionOutput> outputs = new ArrayList<>();
        for (int i = 0; i < Math.min(r.beam.beamWidth(), best.size()); i++) {
            RequestState.BeamHypothesis h = best.get(i);
            boolean eos = h.tokens().length > 0 && !r.beam.ignoreEos() && model.isStopToken(h.tokens()[h.tokens().length - 1]);
            int[] textTokens = eos ? Arrays.copyOf(h.tokens(), h.tokens().length - 1) : h.tokens();
            outputs.add(new CompletionOutput(i, h.tokens(), textAfter(r.prompt, textTokens),
                    eos ? FinishReason.STOP : FinishReason.LENGTH, null, h.cumulativeLogprob()));
        }
        return outputs;
    }

    /** The text of {@code out} as it reads after the prompt (a leading space stays a space). */
    private String textAfter(int[] prompt, int[] out) {
        Detokenizer d = model.tokenizer().newDetokenizer(true);
        for (int t : prompt) {
            d.next(t);
        }
        StringBuilder sb = new StringBuilder();
        for (int t : out) {
            sb.append(d.next(t));
        }
        return sb.append(d.flush()).toString();
    }

    /** A continuation: beam {@code beam} extended by {@code token}, with the new cumulative logprob. */
    record Candidate(int beam, int token, double cumulativeLogprob) {
    }

    /** The continuations kept (at most the beam width, best first) and the hypotheses finished by EOS. */
    record Selection(List<Candidate> continued, List<Candidate> finished) {
    }

    /**
     * Ranks every beam's candidates by cumulative logprob (ties: lower beam, then lower token), then walks
     * them best first: an EOS candidate among the first {@code width} ranks finishes a hypothesis; other
     * candidates continue until {@code width} beams are kept.
     */
    static Selection select(int beams, IntToDoubleFunction cumulative, IntFunction<TokenLogprobs> candidates, int width,
                            IntPredicate isEos) {
        List<Candidate> all = new ArrayList<>();
        for (int b = 0; b < beams; b++) {
            TokenLogprobs c = candidates.apply(b);
            for (int i = 0; i < c.topIds().length; i++) {
                all.add(new Candidate(b, c.topIds()[i], cumulative.applyAsDouble(b) + c.topLogprobs()[i]));
            }
        }
        all.sort((x, y) -> {
            int byScore = Double.compare(y.cumulativeLogprob(), x.cumulativeLogprob());
            if (byScore != 0) {
                return byScore;
            }
            return x.beam() != y.beam() ? Integer.compare(x.beam(), y.beam()) : Integer.compare(x.token(), y.token());
        });
        List<Candidate> continued = new ArrayList<>();
        List<Candidate> finished = new ArrayList<>();
        for (int rank = 0; rank < all.size() && continued.size() < width; rank++) {
            Candidate c = all.get(rank);
            if (isEos.test(c.token())) {
                if (rank < width) {
                    finished.add(c);
                }
            } else {
                continued.add(c);
            }
        }
        return new Selection(continued, finished);
    }

    /**
     * Whether the search can stop: beam_width hypotheses are finished and (early_stopping false) no running beam,
     * scored at its current length, beats the worst of them. early_stopping never only stops at max_tokens.
     */
    static boolean done(BeamSearchParams p, List<RequestState.BeamHypothesis> hypotheses, double bestRunningCumulative, int runningLength) {
        if (hypotheses.size() < p.beamWidth()) {
            return false;
        }
        return switch (p.earlyStopping()) {
            case TRUE -> true;
            case NEVER -> false;
            case FALSE -> {
                double[] scores = hypotheses.stream().mapToDouble(RequestState.BeamHypothesis::score).sorted().toArray();
                double worstKept = scores[scores.length - p.beamWidth()];
                yield worstKept >= p.score(bestRunningCumulative, runningLength);
            }
        };
    }
}
