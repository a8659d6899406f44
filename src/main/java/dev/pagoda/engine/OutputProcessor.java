package dev.pagoda.engine;

import dev.pagoda.PagodaException;
import dev.pagoda.kernel.Ops;
import dev.pagoda.kernel.RangeTask;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.model.Model;
import dev.pagoda.sampling.Sampler;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.sampling.StopStrings;
import dev.pagoda.sampling.TokenLogprobs;
import dev.pagoda.scheduler.ScheduledBatch;
import dev.pagoda.scheduler.Scheduler;
import dev.pagoda.scheduler.Sequence;
import dev.pagoda.scheduler.SequenceStatus;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * From logits to what callers see: samples each sequence's next token, detokenizes it, checks the stop
 * conditions, streams the delta, forks parallel samples after the shared prefill, and finishes sequences
 * (their KV freed at once) and requests (candidates ranked, result completed). Hands beams to
 * {@link BeamSearch}. Owns the requests in flight. Engine thread only.
 */
final class OutputProcessor {
    /** Multiply-adds a random draw is counted as per vocabulary entry (an exponential), for the choice of thread. */
    private static final int DRAW_WORK = 16;

    private final Model model;
    private final Scheduler<SeqState> scheduler;
    private final EngineStats stats;
    private final BeamSearch beams;
    private final int vocab;
    private final int[] logprobScratch;
    private final Map<String, RequestState> live = new HashMap<>();
    private final RangeTask drawRange = this::drawRange;
    /** The step whose draws {@link #drawRange} makes (set by {@link #drawAhead}, cleared after it). */
    private ScheduledBatch<SeqState> drawBatch;
    private float[] drawLogits;
    private ModelRunner drawRunner;

    OutputProcessor(Model model, Scheduler<SeqState> scheduler, EngineStats stats) {
        this.model = model;
        this.scheduler = scheduler;
        this.stats = stats;
        this.vocab = model.config().vocabSize();
        this.logprobScratch = new int[vocab];
        this.beams = new BeamSearch(model, scheduler, stats, this::finishRequest);
    }

    /**
     * A request's sequence with its own sampler (sample i of a seeded request draws from a generator derived
     * from the seed) and detokenizer. Any thread: touches only the new state.
     */
    SeqState newSequence(RequestState r, int index, long arrival, int maxLength) {
        SeqState s = new SeqState(r, index, arrival, maxLength);
        initSampling(s);
        return s;
    }

    private void initSampling(SeqState s) {
        RequestState r = s.request;
        SamplingParams p = r.params;
        s.sampler = new Sampler(vocab, p, r.prompt, model.stopTokens(), s.index);
        if (r.matcher != null && s.constraint == null) {
            s.constraint = r.matcher.start();
        }
        if (r.beam == null) {
            s.stops = new StopStrings(p.stop(), p.includeStopStrInOutput());
            s.detokenizer = model.tokenizer().newDetokenizer(p.skipSpecialTokens());
            for (int t : r.prompt) {
                s.detokenizer.next(t);
            }
            if (p.wantsLogprobs()) {
                s.logprobs = new ArrayList<>();
            }
        }
    }

    /** Starts a request's sequences; a duplicate id is refused on its own handle. */
    void add(RequestState r) {
        if (live.putIfAbsent(r.id, r) != null) {
            String error = "duplicate request id " + r.id;
            r.handle.result.completeExceptionally(new PagodaException(error));
            r.handle.stream.add(new RequestOutput(r.id, 0, new int[0], "", null, null, error));
            return;
        }
        for (SeqState s : r.live) {
            scheduler.addWaiting(s.seq);
        }
        stats.requestsAdded++;
    }

    RequestState request(String id) {
        return live.get(id);
    }

    /** "waiting", "prefilling", "decoding", "swapped" or "finished" (of the request's first live sequence). */
    String stateOf(String id) {
        RequestState r = live.get(id);
        if (r == null || r.live.isEmpty()) {
            return "finished";
        }
        Sequence<SeqState> s = r.live.get(0).seq;
        return switch (s.status()) {
            case WAITING -> "waiting";
            case SWAPPED -> "swapped";
            case RUNNING -> s.computed() < s.promptLength() ? "prefilling" : "decoding";
            case FINISHED -> "finished";
        };
    }

    boolean isEmpty() {
        return live.isEmpty();
    }

    /**
     * Before the scheduler advances: prompt logprobs of the chunks that cover prompt positions. The row of
     * position p scores prompt token p+1; each is recorded once, even if a preemption recomputes the prompt.
     */
    void recordPromptLogprobs(ScheduledBatch<SeqState> b, ModelRunner runner) {
        for (int i = 0; i < b.size(); i++) {
            Sequence<SeqState> seq = b.sequence(i);
            RequestState r = seq.owner().request;
            int from = seq.computed(), n = b.count(i);
            if (!r.wantsPromptLogprobs(from)) {
                continue;
            }
            int firstRow = runner.lastRow(i) - n + 1;
            for (int p = from; p < from + n && p + 1 < r.prompt.length; p++) {
                if (p == r.promptLogprobs.size()) {
                    r.promptLogprobs.add(TokenLogprobs.of(runner.logits(), (firstRow + p - from) * vocab, vocab, r.prompt[p + 1],
                            r.params.promptLogprobs(), logprobScratch));
                }
            }
        }
    }

    /**
     * Ends the sequences the scheduler dropped because their request can never be placed again (its samples or
     * beams outgrew the KV cache together): finish reason length, with what they have generated.
     */
    void endIgnored(List<Sequence<SeqState>> ignored) {
        // Indexed: an iterator would be an object per step (the list is almost always empty).
        for (int i = 0; i < ignored.size(); i++) {
            SeqState s = ignored.get(i).owner();
            if (s.request.beam != null) {
                beams.end(s.request);
            } else if (s.request.live.contains(s)) {
                endUnsampled(s, FinishReason.LENGTH);
            }
        }
    }

    /** After the scheduler advanced: every sequence whose tokens are all computed takes its next token. */
    void processOutputs(ScheduledBatch<SeqState> b, ModelRunner runner) {
        drawAhead(b, runner);
        for (int i = 0; i < b.size(); i++) {
            Sequence<SeqState> seq = b.sequence(i);
            if (seq.status() != SequenceStatus.FINISHED && seq.computed() == seq.length()) {
                onLogits(seq.owner(), runner.logits(), runner.lastRow(i) * vocab);
            }
            seq.owner().drawn = -1;
        }
        beams.step();
    }

    /**
     * Draws the next token of every sequence that only needs its sampler and draws at random (no beam, no
     * constraint, past its fork, a temperature) on the worker pool: such a draw takes an exponential per vocabulary
     * entry, which for tens of sequences was milliseconds on the engine thread alone. Greedy draws (a vector scan)
     * cost less than the handoff and stay here. Each sampler is used by one thread and has its own generator, so
     * the tokens are those of drawing in turn; the rest of each token's handling stays in order on this thread.
     */
    private void drawAhead(ScheduledBatch<SeqState> b, ModelRunner runner) {
        int random = 0;
        for (int i = 0; i < b.size(); i++) {
            random += drawsAhead(b.sequence(i)) ? 1 : 0;
        }
        if ((long) random * vocab * DRAW_WORK < WorkerPool.INLINE_WORK) {
            return;
        }
        drawBatch = b;
        drawRunner = runner;
        drawLogits = runner.logits();
        try {
            WorkerPool.shared().parallelFor(b.size(), drawRange);
        } finally {
            drawBatch = null;
            drawRunner = null;
            drawLogits = null;
        }
    }

    private static boolean drawsAhead(Sequence<SeqState> seq) {
        SeqState s = seq.owner();
        RequestState r = s.request;
        return seq.status() != SequenceStatus.FINISHED && seq.computed() == seq.length() && r.beam == null && r.forked
                && s.constraint == null && !r.params.isGreedy();
    }

    private void drawRange(int start, int end) {
        for (int i = start; i < end; i++) {
            Sequence<SeqState> seq = drawBatch.sequence(i);
            if (drawsAhead(seq)) {
                seq.owner().drawn = seq.owner().sampler.sample(drawLogits, drawRunner.lastRow(i) * vocab);
            }
        }
    }

    /** A sequence's logits for its next token are in logits[off, off + vocab). */
    private void onLogits(SeqState s, float[] logits, int off) {
        RequestState r = s.request;
        if (r.firstTokenNanos == 0) {
            r.firstTokenNanos = System.nanoTime();
        }
        if (r.beam != null) {
            beams.collect(s, TokenLogprobs.of(logits, off, vocab, Ops.argmax(logits, off, vocab), 2 * r.beam.beamWidth(), logprobScratch));
            return;
        }
        if (!r.forked) {
            // Parallel sampling: the prompt is computed once; the samples share its blocks (copy-on-write).
            for (int i = 1; i < r.params.bestOf(); i++) {
                SeqState child = SeqState.fork(s, i, scheduler);
                initSampling(child);
                r.live.add(child);
            }
            r.markForked();
            for (SeqState sample : List.copyOf(r.live)) {
                sampleNext(sample, logits, off);
            }
            return;
        }
        sampleNext(s, logits, off);
    }

    private void sampleNext(SeqState s, float[] logits, int off) {
        RequestState r = s.request;
        Sequence<SeqState> seq = s.seq;
        // Guided decoding masks the logits row first: every transform, the draw and the logprobs see it.
        if (s.constraint != null && !s.constraint.mask(logits, off, vocab)) {
            endUnsampled(s, s.constraint.complete() ? FinishReason.STOP : FinishReason.LENGTH);
            return;
        }
        int token = s.drawn >= 0 ? s.drawn : s.sampler.sample(logits, off);
        s.drawn = -1;
        List<TokenLogprobs> lp = null;
        if (s.logprobs != null || r.params.bestOf() > r.params.n()) {
            TokenLogprobs t = TokenLogprobs.of(logits, off, vocab, token, r.params.wantsLogprobs() ? r.params.logprobs() : 0, logprobScratch);
            s.cumulativeLogprob += t.logprob();
            if (s.logprobs != null) {
                s.logprobs.add(t);
                lp = List.of(t);
            }
        }
        seq.append(token);
        s.sampler.accept(token);
        if (s.constraint != null) {
            s.constraint.accept(token);
        }
        stats.generationTokens++;
        FinishReason reason = null;
        String delta;
        boolean eos = !r.params.ignoreEos() && model.isStopToken(token);
        if (eos || contains(r.params.stopTokenIds(), token)) {
            reason = FinishReason.STOP;
            // As vLLM: the model's end of sequence has no stop reason; a requested stop token does.
            s.stopReason = eos ? null : StopReason.token(token);
            delta = flushText(s);
        } else {
            if (!r.streams() && s.stops.passThrough()) {
                // Nobody reads the delta and no stop string can hold text back: the text grows in place.
                s.detokenizer.appendNext(token, s.text);
                delta = "";
            } else {
                delta = s.stops.next(s.detokenizer.next(token));
            }
            if (s.stops.stopped()) {
                reason = FinishReason.STOP;
            } else if (seq.outputLength() >= r.params.maxTokens() || seq.length() >= seq.maxLength()) {
                delta += flushText(s);
                reason = s.stops.stopped() ? FinishReason.STOP : FinishReason.LENGTH;
            }
            if (s.stops.stopped()) {
                s.stopReason = StopReason.string(s.stops.matched());
            }
        }
        s.text.append(delta);
        if (r.streams()) {
            r.handle.stream.add(new RequestOutput(r.id, s.index, new int[] {token}, delta, lp, reason, null, s.stopReason));
        }
        if (reason != null) {
            endSequence(s, reason);
        }
    }

    /** Ends a sequence without a new token (its constraint allows none): emits the held-back text. */
    private void endUnsampled(SeqState s, FinishReason reason) {
        RequestState r = s.request;
        String delta = flushText(s);
        s.text.append(delta);
        if (r.streams()) {
            r.handle.stream.add(new RequestOutput(r.id, s.index, new int[0], delta, s.logprobs == null ? null : List.of(), reason, null));
        }
        endSequence(s, reason);
    }

    /** The text still held back (an incomplete character, a possible stop string) when generation ends. */
    private static String flushText(SeqState s) {
        String tail = s.stops.next(s.detokenizer.flush());
        return s.stops.stopped() ? tail : tail + s.stops.flush();
    }

    private static boolean contains(int[] ids, int token) {
        for (int id : ids) {
            if (id == token) {
                return true;
            }
        }
        return false;
    }

    /** Ends every sequence of the request and frees their KV blocks or swap blocks now. */
    void abort(String id) {
        RequestState r = live.get(id);
        if (r != null) {
            for (SeqState s : List.copyOf(r.live)) {
                endSequence(s, FinishReason.ABORT);
            }
            if (r.beam != null) {
                finishRequest(r);
            }
        }
    }

    /** Aborts every request in flight (the engine is closing). */
    void abortAll() {
        for (RequestState r : List.copyOf(live.values())) {
            for (SeqState s : List.copyOf(r.live)) {
                endSequence(s, FinishReason.ABORT);
            }
            finishRequest(r);
        }
    }

    /** Ends every request in flight with {@code error} (a step failed): their blocks are freed, their handles fail. */
    void failAll(Throwable error) {
        for (RequestState r : List.copyOf(live.values())) {
            for (SeqState s : List.copyOf(r.live)) {
                scheduler.finish(s.seq);
            }
            r.live.clear();
            live.remove(r.id);
            r.handle.stream.add(new RequestOutput(r.id, 0, new int[0], "", null, null, "engine error: " + error));
            r.handle.result.completeExceptionally(error);
        }
    }

    /** Frees a sequence's blocks at once; the request completes when its last sequence ends. */
    private void endSequence(SeqState s, FinishReason reason) {
        RequestState r = s.request;
        scheduler.finish(s.seq);
        if (!r.live.remove(s)) {
            return;
        }
        s.finishReason = reason;
        if (r.beam == null) {
            r.done.add(s);
            if (reason == FinishReason.ABORT && r.streams()) {
                r.handle.stream.add(new RequestOutput(r.id, s.index, new int[0], "", s.logprobs == null ? null : List.of(), reason, null));
            }
            if (r.live.isEmpty()) {
                finishRequest(r);
            }
        }
    }

    /** Completes a request whose sequences have all ended: ranks candidates, emits held-back output. */
    private void finishRequest(RequestState r) {
        if (live.remove(r.id) == null) {
            return;
        }
        long now = System.nanoTime();
        List<CompletionOutput> outputs = r.beam != null ? beams.outputs(r) : sampledOutputs(r);
        // A streamed request has sent its samples' ends already; not those it never forked (see sampledOutputs).
        for (CompletionOutput c : r.streams() ? outputs.subList(r.done.size(), outputs.size()) : outputs) {
            r.handle.stream.add(new RequestOutput(r.id, c.index(), c.tokenIds(), c.text(), c.logprobs(), c.finishReason(), null,
                    c.stopReason()));
        }
        int outTokens = 0;
        for (CompletionOutput c : outputs) {
            stats.onFinish(c.finishReason());
            outTokens += c.tokenIds().length;
        }
        r.handle.result.complete(new RequestResult(r.id, r.handle.promptTokenIds(), outputs, r.promptLogprobs,
                new RequestMetrics(r.arrivalNanos, r.firstScheduledNanos, r.firstTokenNanos, now, r.prompt.length, outTokens,
                        r.cachedPromptTokens)));
    }

    /** The n samples returned: in sample order, or the best n of best_of by cumulative logprob. */
    private static List<CompletionOutput> sampledOutputs(RequestState r) {
        List<SeqState> chosen = new ArrayList<>(r.done);
        chosen.sort(Comparator.comparingInt(s -> s.index));
        if (r.params.bestOf() > r.params.n()) {
            chosen.sort((a, b) -> Double.compare(b.cumulativeLogprob, a.cumulativeLogprob));
            chosen = chosen.subList(0, Math.min(r.params.n(), chosen.size()));
        }
        List<CompletionOutput> outputs = new ArrayList<>();
        for (int i = 0; i < chosen.size(); i++) {
            SeqState s = chosen.get(i);
            outputs.add(new CompletionOutput(i, Arrays.copyOfRange(s.seq.tokens(), r.prompt.length, s.seq.length()),
                    s.text.toString(), s.finishReason, s.logprobs, s.cumulativeLogprob, s.stopReason));
        }
        // Aborted before its prefill forked the other samples: they end too, empty, so that every completion
        // index still ends with a finished increment (RequestHandle's contract).
        for (int i = outputs.size(); i < r.params.n(); i++) {
            outputs.add(new CompletionOutput(i, new int[0], "", FinishReason.ABORT, r.params.wantsLogprobs() ? List.of() : null, 0));
        }
        return outputs;
    }
}
