package dev.pagoda.engine;

import dev.pagoda.PagodaException;
import dev.pagoda.attention.PagedAttentionBackend;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvMemoryUsage;
import dev.pagoda.kv.KvShape;
import dev.pagoda.kv.SwapSpace;
import dev.pagoda.model.ForwardBatch;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelConfig;
import dev.pagoda.model.Transformer;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.sampling.TokenLogprobs;
import dev.pagoda.scheduler.PreemptionMode;
import dev.pagoda.scheduler.ScheduledBatch;
import dev.pagoda.scheduler.Scheduler;
import dev.pagoda.scheduler.SchedulerConfig;
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
    private final float[] logits;
    private final int[] sampledIndex;
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
        KvAllocator allocator = KvAllocator.create(config.kvLayout(), memory);
        this.scheduler = new Scheduler(new SchedulerConfig(config.maxNumSeqs(), config.maxNumBatchedTokens(),
                config.preemptionMode(), EngineConfig.WATERMARK), allocator, memory, swap);
        int stepTokens = config.maxNumBatchedTokens();
        this.transformer = new Transformer(model, stepTokens);
        this.attention = new PagedAttentionBackend(memory, mc.heads(), WorkerPool.shared(), stepTokens, config.maxNumSeqs());
        this.batch = new ForwardBatch(stepTokens, config.maxNumSeqs());
        this.logits = new float[Math.min(stepTokens, config.maxNumSeqs()) * vocab];
        this.sampledIndex = new int[config.maxNumSeqs()];
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
        if (params.bestOf() > 1) {
            throw new dev.pagoda.InvalidParameterException("n", "n and best_of above 1 are not supported yet");
        }
        for (int t : prompt) {
            if (t < 0 || t >= vocab) {
                throw new PagodaException("token id " + t + " is outside the vocabulary (0.." + (vocab - 1) + ")");
            }
        }
        int maxLength = (int) Math.min((long) prompt.length + params.maxTokens(), maxModelLen);
        RequestHandle handle = new RequestHandle(id, prompt.clone());
        RequestState r = new RequestState(arrivals.incrementAndGet(), prompt, maxLength, handle, params, vocab,
                model.tokenizer().newDetokenizer(true));
        inbox.add(() -> {
            if (live.putIfAbsent(id, r) != null) {
                r.handle.result.completeExceptionally(new PagodaException("duplicate request id " + id));
                r.handle.stream.add(new RequestOutput(id, 0, new int[0], "", null, null, "duplicate request id " + id));
                return;
            }
            scheduler.addWaiting(r);
            stats.requestsAdded++;
        });
        return handle;
    }

    /** Aborts a request in any state; its KV blocks are freed at the next step boundary. Thread-safe. */
    public void abort(String id) {
        inbox.add(() -> {
            RequestState r = live.get(id);
            if (r != null) {
                finish(r, FinishReason.ABORT);
            }
        });
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
        ScheduledBatch b = scheduler.schedule();
        if (b.size() == 0) {
            return;
        }
        batch.clear();
        attention.clear();
        for (int i = 0; i < b.size(); i++) {
            RequestState r = (RequestState) b.sequence(i);
            int from = r.computed(), n = b.count(i);
            batch.addSequence(i, r.tokens(), from, n, from, b.samples(i));
            attention.add(r.kv(), from, n);
        }
        transformer.forward(batch, attention, logits);
        stats.onStep(b, scheduler.numRunning());
        int sampledCount = 0;
        for (int i = 0; i < b.size(); i++) {
            if (b.samples(i)) {
                sampledIndex[sampledCount++] = i;
            }
        }
        scheduler.advance(b);
        for (int j = 0; j < sampledCount; j++) {
            onToken((RequestState) b.sequence(sampledIndex[j]), j * vocab);
        }
    }

    private void onToken(RequestState r, int off) {
        int token = r.sampler.sample(logits, off);
        long now = System.nanoTime();
        if (r.firstTokenNanos == 0) {
            r.firstTokenNanos = now;
        }
        List<TokenLogprobs> lp = null;
        if (r.logprobs != null) {
            TokenLogprobs t = TokenLogprobs.of(logits, off, vocab, token, r.params.logprobs(), r.logprobScratch);
            r.logprobs.add(t);
            r.cumulativeLogprob += t.logprob();
            lp = List.of(t);
        }
        r.append(token);
        stats.generationTokens++;
        FinishReason reason = null;
        String delta = "";
        if (!r.params.ignoreEos() && model.isStopToken(token)) {
            reason = FinishReason.STOP;
        } else {
            delta = r.detokenizer.next(token);
            if (r.outputLength() >= r.params.maxTokens() || r.length() >= r.maxLength()) {
                reason = FinishReason.LENGTH;
                delta += r.detokenizer.flush();
            }
        }
        r.text.append(delta);
        r.handle.stream.add(new RequestOutput(r.handle.id(), 0, new int[] {token}, delta, lp, reason, null));
        if (reason != null) {
            complete(r, reason);
        }
    }

    private void finish(RequestState r, FinishReason reason) {
        r.handle.stream.add(new RequestOutput(r.handle.id(), 0, new int[0], "", r.logprobs == null ? null : List.of(), reason, null));
        complete(r, reason);
    }

    private void complete(RequestState r, FinishReason reason) {
        scheduler.finish(r);
        live.remove(r.handle.id());
        stats.onFinish(reason);
        long now = System.nanoTime();
        int[] out = java.util.Arrays.copyOfRange(r.tokens(), r.promptLength(), r.length());
        CompletionOutput c = new CompletionOutput(0, out, r.text.toString(), reason, r.logprobs, r.cumulativeLogprob);
        r.handle.result.complete(new RequestResult(r.handle.id(), r.handle.promptTokenIds(), List.of(c), null,
                new RequestMetrics(r.arrivalNanos, r.firstTokenNanos, now, r.promptLength(), out.length)));
    }

    private void failAll(Throwable e) {
        for (RequestState r : List.copyOf(live.values())) {
            scheduler.finish(r);
            live.remove(r.handle.id());
            r.handle.stream.add(new RequestOutput(r.handle.id(), 0, new int[0], "", null, null, "engine error: " + e));
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
                finish(r, FinishReason.ABORT);
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
