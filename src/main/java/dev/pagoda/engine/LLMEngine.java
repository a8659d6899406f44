package dev.pagoda.engine;

import dev.pagoda.InvalidParameterException;
import dev.pagoda.PagodaException;
import dev.pagoda.attention.PagedAttentionBackend;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvMemoryUsage;
import dev.pagoda.kv.KvShape;
import dev.pagoda.kv.SwapSpace;
import dev.pagoda.model.ForwardBatch;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelConfig;
import dev.pagoda.model.Transformer;
import dev.pagoda.sampling.BeamSearchParams;
import dev.pagoda.sampling.Sampler;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.sampling.StopStrings;
import dev.pagoda.sampling.TokenLogprobs;
import dev.pagoda.scheduler.PreemptionMode;
import dev.pagoda.scheduler.ScheduledBatch;
import dev.pagoda.scheduler.Scheduler;
import dev.pagoda.scheduler.SchedulerConfig;
import dev.pagoda.scheduler.Sequence;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The serving engine: one engine thread owns the scheduler, the KV cache and the model, and runs steps
 * while there is work. Other threads add and abort requests (through an inbox the engine thread drains at
 * each step) and read outputs from their {@link RequestHandle}s.
 *
 * <p>A step: the scheduler picks tokens under the budget; they are flattened into one batch; the model runs
 * it (weights streamed once for all); sequences whose chunk reached their last token sample one; finished
 * ones free their KV at once.
 */
public final class LLMEngine implements AutoCloseable {
    private final Model model;
    private final EngineConfig config;
    private final int maxModelLen;
    private final KvMemory memory;
    private final SwapSpace swap;
    private final Scheduler scheduler;
    private final Transformer transformer;
    private final PagedAttentionBackend attention;
    private final ForwardBatch batch;
    private float[] logits;
    private final int[] lastRow;
    private final int[] sampledIndex;
    private final int[] logprobScratch;
    private final List<RequestState> beamRequests = new ArrayList<>();
    private final int vocab;
    private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final Map<String, RequestState> live = new HashMap<>();
    private final AtomicLong arrivals = new AtomicLong();
    private final EngineStats stats = new EngineStats();
    private final Thread thread;
    private volatile boolean closed;
    private volatile EngineGauges gauges = new EngineGauges(0, 0, 0, 0, 0, 0);

    public LLMEngine(Model model, EngineConfig config) {
        this.model = model;
        this.config = config;
        ModelConfig mc = model.config();
        this.vocab = mc.vocabSize();
        KvShape shape = new KvShape(mc.layers(), mc.kvHeads(), mc.headDim(), config.blockSize(), config.kvDtype());
        int modelLen = config.maxModelLen() == 0 ? mc.contextLength() : config.maxModelLen();
        if (modelLen > mc.contextLength()) {
            throw new PagodaException("--max-model-len " + modelLen + " exceeds the model's context length " + mc.contextLength());
        }
        long kvBytes = config.kvCacheMemory() > 0 ? config.kvCacheMemory() : KvBudget.automatic(shape, config.maxNumSeqs(), modelLen);
        this.memory = KvMemory.allocate(shape, kvBytes);
        if (modelLen > memory.totalSlots()) {
            if (config.maxModelLen() != 0) {
                memory.close();
                throw new PagodaException("--max-model-len " + modelLen + " tokens do not fit in the KV cache of " + memory.totalSlots()
                        + " token slots (" + dev.pagoda.kv.ByteSize.format(kvBytes) + "); raise --kv-cache-memory or lower --max-model-len");
            }
            modelLen = memory.totalSlots();
        }
        this.maxModelLen = modelLen;
        this.swap = config.preemptionMode() == PreemptionMode.SWAP ? new SwapSpace(shape, config.swapSpace()) : null;
        KvAllocator allocator = KvAllocator.create(config.kvLayout(), memory, config.enablePrefixCaching());
        this.scheduler = new Scheduler(new SchedulerConfig(config.maxNumSeqs(), config.maxNumBatchedTokens(),
                config.preemptionMode(), EngineConfig.WATERMARK), allocator, memory, swap);
        int stepTokens = config.maxNumBatchedTokens();
        this.transformer = new Transformer(model, stepTokens);
        this.attention = new PagedAttentionBackend(memory, mc.heads(), WorkerPool.shared(), stepTokens, config.maxNumSeqs());
        this.batch = new ForwardBatch(stepTokens, config.maxNumSeqs());
        this.logits = new float[Math.min(stepTokens, config.maxNumSeqs()) * vocab];
        this.sampledIndex = new int[config.maxNumSeqs()];
        this.lastRow = new int[config.maxNumSeqs()];
        this.logprobScratch = new int[vocab];
        this.thread = Thread.ofPlatform().name("pagoda-engine").daemon().unstarted(this::loop);
        thread.start();
    }

    public Model model() {
        return model;
    }

    public EngineConfig config() {
        return config;
    }

    /** The longest sequence (prompt + output) a request may reach. */
    public int maxModelLen() {
        return maxModelLen;
    }

    public int kvCacheSlots() {
        return memory.totalSlots();
    }

    /** Tokenizes and adds a prompt. */
    public RequestHandle addRequest(String id, String prompt, SamplingParams params) {
        return addRequest(id, model.tokenizer().encode(prompt, true, false), params);
    }

    /**
     * Adds a request; thread-safe. Rejects at once (PagodaException naming the limit) a prompt that could
     * never run: longer than the max model length or than the whole KV cache.
     */
    public RequestHandle addRequest(String id, int[] prompt, SamplingParams params) {
        return add(id, prompt, params, null);
    }

    /** Adds a beam search request (paged layout only: beams share their history through copy-on-write). */
    public RequestHandle addBeamSearch(String id, int[] prompt, BeamSearchParams beam) {
        if (config.kvLayout() != KvLayout.PAGED) {
            throw new InvalidParameterException("beam_width", "beam search needs the paged KV layout (beams share blocks)");
        }
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(beam.maxTokens()).ignoreEos(beam.ignoreEos()).build();
        return add(id, prompt, greedy, beam);
    }

    private RequestHandle add(String id, int[] prompt, SamplingParams params, BeamSearchParams beam) {
        if (closed) {
            throw new IllegalStateException("engine is closed");
        }
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
        RequestHandle handle = new RequestHandle(id, prompt.clone());
        RequestState r = new RequestState(id, handle, prompt.clone(), params, beam);
        if (r.width() > config.maxNumSeqs()) {
            throw new InvalidParameterException(beam != null ? "beam_width" : "best_of", (beam != null ? "beam_width " : "best_of (or n) ")
                    + r.width() + " exceeds --max-num-seqs " + config.maxNumSeqs());
        }
        int maxLength = (int) Math.min((long) prompt.length + params.maxTokens(), maxModelLen);
        long arrival = arrivals.incrementAndGet();
        // Without forks (contiguous layout) each sample is its own sequence from the start, prefill included.
        int initial = beam == null && !canFork() ? params.bestOf() : 1;
        for (int i = 0; i < initial; i++) {
            r.live.add(newSequence(r, i, arrival, maxLength));
        }
        r.forked = initial > 1 || r.width() == 1;
        inbox.add(() -> {
            if (live.putIfAbsent(id, r) != null) {
                r.handle.result.completeExceptionally(new PagodaException("duplicate request id " + id));
                r.handle.stream.add(new RequestOutput(id, 0, new int[0], "", null, null, "duplicate request id " + id));
                return;
            }
            for (SeqState s : r.live) {
                scheduler.addWaiting(s);
            }
            stats.requestsAdded++;
        });
        return handle;
    }

    private boolean canFork() {
        return config.kvLayout() == KvLayout.PAGED;
    }

    private SeqState newSequence(RequestState r, int index, long arrival, int maxLength) {
        SeqState s = new SeqState(r, index, arrival, maxLength);
        initSampling(s);
        return s;
    }

    /** Gives a sequence its own sampler (sample i of a seeded request draws from a generator derived from the seed) and detokenizer. */
    private void initSampling(SeqState s) {
        RequestState r = s.request;
        SamplingParams p = r.params;
        s.sampler = new Sampler(vocab, p, r.prompt, model.stopTokens(), s.index);
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

    /** Aborts a request in any state; its KV blocks are freed at the next step boundary. Thread-safe. */
    public void abort(String id) {
        inbox.add(() -> abortNow(id));
    }

    /** Engine thread: ends every sequence of the request and frees their KV blocks or swap blocks now. */
    void abortNow(String id) {
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

    /** Engine thread: "waiting", "prefilling", "decoding", "swapped" or "finished" (of the first live sequence). */
    String stateOf(String id) {
        RequestState r = live.get(id);
        if (r == null || r.live.isEmpty()) {
            return "finished";
        }
        SeqState s = r.live.get(0);
        return switch (s.status()) {
            case WAITING -> "waiting";
            case SWAPPED -> "swapped";
            case RUNNING -> s.computed() < s.promptLength() ? "prefilling" : "decoding";
            case FINISHED -> "finished";
        };
    }

    /** Runs a query on the engine thread, between steps, and returns its answer. */
    public <T> T inspect(Supplier<T> query) {
        CompletableFuture<T> f = new CompletableFuture<>();
        inbox.add(() -> f.complete(query.get()));
        return f.join();
    }

    /** KV cache accounting now (requestSlots: the request length external fragmentation is judged against). */
    public KvMemoryUsage kvUsage() {
        return inspect(() -> scheduler.allocator().usage(maxModelLen));
    }

    public EngineStats.Snapshot stats() {
        return inspect(() -> stats.snapshot(scheduler, swap));
    }

    /** Blocks until no request is waiting, running or swapped. */
    public void awaitIdle() throws InterruptedException {
        while (inspect(() -> scheduler.hasWork() || !live.isEmpty())) {
            Thread.sleep(2);
        }
    }

    private void loop() {
        while (!closed) {
            try {
                Runnable cmd = scheduler.hasWork() ? inbox.poll() : inbox.take();
                while (cmd != null) {
                    cmd.run();
                    cmd = inbox.poll();
                }
                if (scheduler.hasWork()) {
                    step();
                }
                publishGauges();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | Error e) {
                failAll(e);
            }
        }
    }

    /** Running/waiting counts and KV usage as of the last step; any thread, no waiting. */
    public EngineGauges gauges() {
        return gauges;
    }

    private void publishGauges() {
        KvAllocator a = scheduler.allocator();
        double usage = a instanceof dev.pagoda.kv.PagedAllocator p
                ? (double) p.pool().usedBlocks() / p.pool().numBlocks()
                : a.usage(maxModelLen).usageFraction();
        gauges = new EngineGauges(scheduler.numRunning(), scheduler.numWaiting(), scheduler.numSwapped(), usage,
                scheduler.recomputePreemptions(), scheduler.swapPreemptions());
    }

    private void step() {
        long t0 = System.nanoTime();
        ScheduledBatch b = scheduler.schedule();
        if (b.size() == 0) {
            return;
        }
        batch.clear();
        attention.clear();
        for (int i = 0; i < b.size(); i++) {
            SeqState s = (SeqState) b.sequence(i);
            if (s.request.firstScheduledNanos == 0) {
                s.request.firstScheduledNanos = t0;
            }
            int from = s.computed(), n = b.count(i);
            boolean promptRows = s.request.wantsPromptLogprobs(from);
            batch.addSequence(i, s.tokens(), from, n, from, b.samples(i), promptRows);
            lastRow[i] = batch.logitCount() - 1;
            attention.add(s.kv(), from, n);
        }
        if ((long) batch.logitCount() * vocab > logits.length) {
            logits = new float[batch.logitCount() * vocab];
        }
        transformer.forward(batch, attention, logits);
        for (int i = 0; i < b.size(); i++) {
            SeqState s = (SeqState) b.sequence(i);
            if (s.request.wantsPromptLogprobs(s.computed())) {
                recordPromptLogprobs(s, s.computed(), b.count(i), lastRow[i] - b.count(i) + 1);
            }
        }
        stats.onStep(b, scheduler.numRunning(), scheduler.allocator() instanceof dev.pagoda.kv.PagedAllocator p ? p.pool().usedBlocks() : 0);
        int sampledCount = 0;
        for (int i = 0; i < b.size(); i++) {
            if (b.samples(i)) {
                sampledIndex[sampledCount++] = i;
            }
        }
        scheduler.advance(b);
        beamRequests.clear();
        for (int j = 0; j < sampledCount; j++) {
            SeqState s = (SeqState) b.sequence(sampledIndex[j]);
            if (s.status() == dev.pagoda.scheduler.SequenceStatus.FINISHED) {
                continue;
            }
            onLogits(s, lastRow[sampledIndex[j]] * vocab);
        }
        for (RequestState r : beamRequests) {
            beamStep(r);
        }
        stats.onStepTime(b, System.nanoTime() - t0);
    }

    /**
     * Prompt logprobs of the chunk at positions [from, from+n) whose logits rows start at {@code firstRow}: the
     * row of position p scores prompt token p+1. Recorded once, even if a preemption recomputes the prompt.
     */
    private void recordPromptLogprobs(SeqState s, int from, int n, int firstRow) {
        RequestState r = s.request;
        for (int p = from; p < from + n && p + 1 < r.prompt.length; p++) {
            if (p == r.promptLogprobs.size()) {
                r.promptLogprobs.add(TokenLogprobs.of(logits, (firstRow + p - from) * vocab, vocab, r.prompt[p + 1],
                        r.params.promptLogprobs(), logprobScratch));
            }
        }
    }

    /** A sequence's logits for its next token are in logits[off, off + vocab). */
    private void onLogits(SeqState s, int off) {
        RequestState r = s.request;
        if (r.firstTokenNanos == 0) {
            r.firstTokenNanos = System.nanoTime();
        }
        if (r.beam != null) {
            s.beamCandidates = TokenLogprobs.of(logits, off, vocab, dev.pagoda.kernel.Ops.argmax(logits, off, vocab),
                    2 * r.beam.beamWidth(), logprobScratch);
            if (!beamRequests.contains(r)) {
                beamRequests.add(r);
            }
            return;
        }
        if (!r.forked) {
            // Parallel sampling: the prompt is computed once; the samples share its blocks (copy-on-write).
            r.forked = true;
            for (int i = 1; i < r.params.bestOf(); i++) {
                SeqState child = new SeqState(s, i, scheduler.allocator().fork(s.kv()));
                initSampling(child);
                r.live.add(child);
                scheduler.addForked(child);
            }
            for (SeqState sample : List.copyOf(r.live)) {
                sampleNext(sample, off);
            }
            return;
        }
        sampleNext(s, off);
    }

    private void sampleNext(SeqState s, int off) {
        RequestState r = s.request;
        int token = s.sampler.sample(logits, off);
        List<TokenLogprobs> lp = null;
        if (s.logprobs != null || r.params.bestOf() > r.params.n()) {
            TokenLogprobs t = TokenLogprobs.of(logits, off, vocab, token, r.params.wantsLogprobs() ? r.params.logprobs() : 0, logprobScratch);
            s.cumulativeLogprob += t.logprob();
            if (s.logprobs != null) {
                s.logprobs.add(t);
                lp = List.of(t);
            }
        }
        s.append(token);
        s.sampler.accept(token);
        stats.generationTokens++;
        FinishReason reason = null;
        String delta;
        if ((!r.params.ignoreEos() && model.isStopToken(token)) || contains(r.params.stopTokenIds(), token)) {
            reason = FinishReason.STOP;
            delta = flushText(s);
        } else {
            delta = s.stops.next(s.detokenizer.next(token));
            if (s.stops.stopped()) {
                reason = FinishReason.STOP;
            } else if (s.outputLength() >= r.params.maxTokens() || s.length() >= s.maxLength()) {
                delta += flushText(s);
                reason = s.stops.stopped() ? FinishReason.STOP : FinishReason.LENGTH;
            }
        }
        s.text.append(delta);
        if (r.streams()) {
            r.handle.stream.add(new RequestOutput(r.id, s.index, new int[] {token}, delta, lp, reason, null));
        }
        if (reason != null) {
            endSequence(s, reason);
        }
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

    /** Frees a sequence's blocks at once; the request completes when its last sequence ends. */
    private void endSequence(SeqState s, FinishReason reason) {
        RequestState r = s.request;
        scheduler.finish(s);
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

    /**
     * Beam search: once every live beam has its candidates, keep the beam_width best continuations over all
     * beams. A beam continued once keeps its sequence; continued several times it forks (sharing its blocks);
     * not continued, it is dropped and its blocks are freed at once.
     */
    private void beamStep(RequestState r) {
        for (SeqState s : r.live) {
            if (s.beamCandidates == null) {
                return;
            }
        }
        BeamSearchParams bp = r.beam;
        int width = bp.beamWidth();
        List<SeqState> beams = List.copyOf(r.live);
        BeamSearch.Selection sel = BeamSearch.select(beams.size(), i -> beams.get(i).cumulativeLogprob,
                i -> beams.get(i).beamCandidates, width, bp.ignoreEos() ? t -> false : model::isStopToken);
        for (BeamSearch.Candidate c : sel.finished()) {
            SeqState parent = beams.get(c.beam());
            int[] out = java.util.Arrays.copyOfRange(parent.tokens(), r.prompt.length, parent.length() + 1);
            out[out.length - 1] = c.token();
            r.hypotheses.add(new RequestState.BeamHypothesis(out, c.cumulativeLogprob(), bp.score(c.cumulativeLogprob(), parent.length())));
        }
        int[] uses = new int[beams.size()];
        for (BeamSearch.Candidate c : sel.continued()) {
            uses[c.beam()]++;
        }
        List<SeqState> next = new ArrayList<>();
        int index = 0;
        for (BeamSearch.Candidate c : sel.continued()) {
            SeqState parent = beams.get(c.beam());
            SeqState beam;
            if (--uses[c.beam()] > 0) {
                beam = new SeqState(parent, index++, scheduler.allocator().fork(parent.kv()));
                scheduler.addForked(beam);
                r.live.add(beam);
            } else {
                beam = parent;
            }
            beam.cumulativeLogprob = c.cumulativeLogprob();
            next.add(beam);
        }
        for (SeqState old : beams) {
            if (!next.contains(old)) {
                scheduler.finish(old);
                r.live.remove(old);
            }
        }
        r.forked = true;
        boolean atLimit = false;
        for (int i = 0; i < next.size(); i++) {
            SeqState beam = next.get(i);
            beam.beamCandidates = null;
            beam.append(sel.continued().get(i).token());
            stats.generationTokens++;
            atLimit |= beam.outputLength() >= bp.maxTokens() || beam.length() >= beam.maxLength();
        }
        if (atLimit || next.isEmpty() || BeamSearch.done(bp, r.hypotheses, next.stream().mapToDouble(s -> s.cumulativeLogprob).max().orElse(0),
                next.isEmpty() ? 0 : next.get(0).length())) {
            if (atLimit || r.hypotheses.size() < width) {
                for (SeqState beam : next) {
                    r.hypotheses.add(new RequestState.BeamHypothesis(java.util.Arrays.copyOfRange(beam.tokens(), r.prompt.length, beam.length()),
                            beam.cumulativeLogprob, bp.score(beam.cumulativeLogprob, beam.length())));
                }
            }
            for (SeqState beam : List.copyOf(r.live)) {
                scheduler.finish(beam);
                r.live.remove(beam);
            }
            finishRequest(r);
        }
    }

    /** Completes a request whose sequences have all ended: ranks candidates, emits held-back output, frees nothing more. */
    private void finishRequest(RequestState r) {
        if (live.remove(r.id) == null) {
            return;
        }
        long now = System.nanoTime();
        List<CompletionOutput> outputs = new ArrayList<>();
        if (r.beam != null) {
            List<RequestState.BeamHypothesis> best = new ArrayList<>(r.hypotheses);
            best.sort((a, b) -> Double.compare(b.score(), a.score()));
            for (int i = 0; i < Math.min(r.beam.beamWidth(), best.size()); i++) {
                RequestState.BeamHypothesis h = best.get(i);
                boolean eos = h.tokens().length > 0 && !r.beam.ignoreEos() && model.isStopToken(h.tokens()[h.tokens().length - 1]);
                int[] textTokens = eos ? java.util.Arrays.copyOf(h.tokens(), h.tokens().length - 1) : h.tokens();
                outputs.add(new CompletionOutput(i, h.tokens(), textAfter(r.prompt, textTokens),
                        eos ? FinishReason.STOP : FinishReason.LENGTH, null, h.cumulativeLogprob()));
            }
        } else {
            List<SeqState> chosen = new ArrayList<>(r.done);
            chosen.sort(java.util.Comparator.comparingInt(s -> s.index));
            if (r.params.bestOf() > r.params.n()) {
                chosen.sort((a, b) -> Double.compare(b.cumulativeLogprob, a.cumulativeLogprob));
                chosen = chosen.subList(0, Math.min(r.params.n(), chosen.size()));
            }
            for (int i = 0; i < chosen.size(); i++) {
                SeqState s = chosen.get(i);
                outputs.add(new CompletionOutput(i, java.util.Arrays.copyOfRange(s.tokens(), r.prompt.length, s.length()),
                        s.text.toString(), s.finishReason, s.logprobs, s.cumulativeLogprob));
            }
            // Aborted before its prefill forked the other samples: they end too, empty, so that every
            // completion index still ends with a finished increment (RequestHandle's contract).
            for (int i = outputs.size(); i < r.params.n(); i++) {
                CompletionOutput c = new CompletionOutput(i, new int[0], "", FinishReason.ABORT, r.params.wantsLogprobs() ? List.of() : null, 0);
                outputs.add(c);
                if (r.streams()) {
                    r.handle.stream.add(new RequestOutput(r.id, i, c.tokenIds(), "", c.logprobs(), FinishReason.ABORT, null));
                }
            }
        }
        if (!r.streams()) {
            for (CompletionOutput c : outputs) {
                r.handle.stream.add(new RequestOutput(r.id, c.index(), c.tokenIds(), c.text(), c.logprobs(), c.finishReason(), null));
            }
        }
        int outTokens = 0;
        for (CompletionOutput c : outputs) {
            stats.onFinish(c.finishReason());
            outTokens += c.tokenIds().length;
        }
        r.handle.result.complete(new RequestResult(r.id, r.handle.promptTokenIds(), outputs, r.promptLogprobs,
                new RequestMetrics(r.arrivalNanos, r.firstScheduledNanos, r.firstTokenNanos, now, r.prompt.length, outTokens)));
    }

    /** The text of {@code out} as it reads after the prompt (a leading space stays a space). */
    private String textAfter(int[] prompt, int[] out) {
        dev.pagoda.tokenizer.Detokenizer d = model.tokenizer().newDetokenizer(true);
        for (int t : prompt) {
            d.next(t);
        }
        StringBuilder sb = new StringBuilder();
        for (int t : out) {
            sb.append(d.next(t));
        }
        return sb.append(d.flush()).toString();
    }

    private void failAll(Throwable e) {
        for (RequestState r : List.copyOf(live.values())) {
            for (SeqState s : List.copyOf(r.live)) {
                scheduler.finish(s);
            }
            r.live.clear();
            live.remove(r.id);
            r.handle.stream.add(new RequestOutput(r.id, 0, new int[0], "", null, null, "engine error: " + e));
            r.handle.result.completeExceptionally(e);
        }
        System.err.println("pagoda: engine step failed, its requests were ended: " + e);
        e.printStackTrace();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        inbox.add(() -> {
            for (RequestState r : List.copyOf(live.values())) {
                for (SeqState s : List.copyOf(r.live)) {
                    endSequence(s, FinishReason.ABORT);
                }
                finishRequest(r);
            }
            closed = true;
        });
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        memory.close();
        if (swap != null) {
            swap.close();
        }
    }
}
