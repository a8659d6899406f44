package dev.pagoda.engine;

import dev.pagoda.InvalidParameterException;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvMemoryUsage;
import dev.pagoda.kv.SwapSpace;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelConfig;
import dev.pagoda.sampling.BeamSearchParams;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.scheduler.PreemptionMode;
import dev.pagoda.scheduler.ScheduledBatch;
import dev.pagoda.scheduler.Scheduler;
import dev.pagoda.scheduler.SchedulerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The serving engine: one engine thread owns the scheduler, the KV cache and the model, and runs steps
 * while there is work. Other threads add and abort requests (through an inbox the engine thread drains at
 * each step) and read outputs from their {@link RequestHandle}s.
 *
 * <p>A step: the {@link Scheduler} picks tokens under the budget and gives them slots; the
 * {@link ModelRunner} runs them as one batch (weights streamed once for all); the {@link OutputProcessor}
 * samples, streams and finishes (finished sequences free their KV at once).
 */
public final class LLMEngine implements AutoCloseable {
    private final Model model;
    private final EngineConfig config;
    private final int maxModelLen;
    private final KvMemory memory;
    private final SwapSpace swap;
    private final KvAllocator allocator;
    private final Scheduler<SeqState> scheduler;
    private final ModelRunner runner;
    private final OutputProcessor outputs;
    private final int vocab;
    private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final AtomicLong arrivals = new AtomicLong();
    private final EngineStats stats = new EngineStats();
    private final ConstraintMatchers matchers;
    private final Thread thread;
    private volatile boolean closed;
    private final PublishedState published;
    private volatile Runnable stepHook;
    private volatile Consumer<String> abortHook;

    public LLMEngine(Model model, EngineConfig config) {
        this.model = model;
        this.config = config;
        ModelConfig mc = model.config();
        this.vocab = mc.vocabSize();
        KvBudget.Sized kv = KvBudget.allocate(mc, config);
        this.memory = kv.memory();
        this.maxModelLen = kv.maxModelLen();
        this.swap = config.preemptionMode() == PreemptionMode.SWAP ? new SwapSpace(memory, config.swapSpace()) : null;
        this.allocator = KvAllocator.create(config.kvLayout(), memory, config.enablePrefixCaching(), swap, mc.maxWindow());
        this.scheduler = new Scheduler<>(new SchedulerConfig(config.maxNumSeqs(), config.maxNumBatchedTokens(),
                config.preemptionMode(), EngineConfig.WATERMARK, config.growthRoom()), allocator);
        this.runner = new ModelRunner(model, memory, config.maxNumBatchedTokens(), config.maxNumSeqs());
        this.outputs = new OutputProcessor(model, scheduler, stats);
        this.matchers = new ConstraintMatchers(model);
        this.published = new PublishedState(scheduler, allocator, stats, maxModelLen);
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
        if (!allocator.canFork()) {
            throw new InvalidParameterException("beam_width", "beam search needs the paged KV layout (beams share blocks)");
        }
        SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(beam.maxTokens()).ignoreEos(beam.ignoreEos()).build();
        return add(id, prompt, greedy, beam);
    }

    /**
     * Adds requests together: the engine thread takes them all in one step boundary, so the schedule does not
     * depend on how fast this thread adds them (as vLLM's offline {@code generate}). Thread-safe; a prompt that
     * could never run rejects the whole list, none added.
     */
    public List<RequestHandle> addRequests(List<String> ids, List<int[]> prompts, SamplingParams params) {
        List<RequestState> states = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            states.add(prepare(ids.get(i), prompts.get(i), params, null));
        }
        inbox.add(() -> states.forEach(outputs::add));
        return states.stream().map(s -> s.handle).toList();
    }

    private RequestHandle add(String id, int[] prompt, SamplingParams params, BeamSearchParams beam) {
        RequestState r = prepare(id, prompt, params, beam);
        inbox.add(() -> outputs.add(r));
        return r.handle;
    }

    /** A request checked and its sequences made, not yet seen by the engine thread. */
    private RequestState prepare(String id, int[] prompt, SamplingParams params, BeamSearchParams beam) {
        if (closed) {
            throw new IllegalStateException("engine is closed");
        }
        RequestState.checkPrompt(prompt, maxModelLen, vocab);
        RequestHandle handle = new RequestHandle(id, prompt.clone());
        RequestState r = new RequestState(id, handle, prompt.clone(), params, beam,
                params.constraint() == null || beam != null ? null : matchers.of(params.constraint()));
        if (r.width() > config.maxNumSeqs()) {
            throw new InvalidParameterException(beam != null ? "beam_width" : "best_of", (beam != null ? "beam_width " : "best_of (or n) ")
                    + r.width() + " exceeds --max-num-seqs " + config.maxNumSeqs());
        }
        int maxLength = (int) Math.min((long) prompt.length + params.maxTokens(), maxModelLen);
        long arrival = arrivals.incrementAndGet();
        // Without forks (contiguous layout) each sample is its own sequence from the start, prefill included.
        int initial = beam == null && !allocator.canFork() ? params.bestOf() : 1;
        r.forked = initial > 1 || r.width() == 1;
        for (int i = 0; i < initial; i++) {
            r.live.add(outputs.newSequence(r, i, arrival, maxLength));
        }
        return r;
    }

    /** Aborts a request in any state; its KV blocks are freed at the next step boundary. Thread-safe. */
    public void abort(String id) {
        inbox.add(() -> abortNow(id));
        Consumer<String> hook = abortHook;
        if (hook != null) {
            hook.accept(id);
        }
    }

    /** Engine thread: ends every sequence of the request and frees their KV blocks or swap blocks now. */
    void abortNow(String id) {
        outputs.abort(id);
    }

    /** Engine thread: "waiting", "prefilling", "decoding", "swapped" or "finished" (of the first live sequence). */
    String stateOf(String id) {
        return outputs.stateOf(id);
    }

    /** Runs a query on the engine thread, between steps, and returns its answer. */
    public <T> T inspect(Supplier<T> query) {
        CompletableFuture<T> f = new CompletableFuture<>();
        inbox.add(() -> f.complete(query.get()));
        return f.join();
    }

    /** KV cache accounting now (requestSlots: the request length external fragmentation is judged against). */
    public KvMemoryUsage kvUsage() {
        return inspect(() -> allocator.usage(maxModelLen));
    }

    public EngineStats.Snapshot stats() {
        return inspect(() -> stats.snapshot(scheduler, allocator));
    }

    /** Blocks until no request is waiting, running or swapped. */
    public void awaitIdle() throws InterruptedException {
        while (inspect(() -> scheduler.hasWork() || !outputs.isEmpty())) {
            Thread.sleep(2);
        }
    }

    private void loop() {
        while (!closed) {
            try {
                Runnable cmd = scheduler.hasWork() ? inbox.poll() : inbox.take();
                published.blockMaps.changing();
                while (cmd != null) {
                    cmd.run();
                    cmd = inbox.poll();
                }
                boolean stepped = scheduler.hasWork();
                if (stepped) {
                    step();
                }
                published.publish();
                Runnable hook = stepHook;
                if (stepped && hook != null) {
                    hook.run();
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | Error e) {
                failAll(e);
            }
        }
    }

    /** Running/waiting counts and KV usage as of the last step; any thread, no waiting. */
    public EngineGauges gauges() {
        return published.gauges();
    }

    /** Counters and KV accounting as of the last publication (see {@link EngineMetrics}); any thread, no waiting. */
    public EngineMetrics metrics() {
        return published.metrics();
    }

    /** Publishes the KV block map after every step from now until the watch is closed; the first at once. */
    public BlockMapPublisher.Watch watchBlockMap() {
        BlockMapPublisher.Watch w = published.blockMaps.watch();
        // Wakes an idle engine thread, whose loop then publishes.
        inbox.add(() -> { });
        return w;
    }

    /** The block map last published (null before the first), held until its release; any thread, no waiting. */
    public KvBlockMap acquireBlockMap() {
        return published.blockMaps.acquire();
    }

    /**
     * A block map of now, held until its release: the one published last while it is still current (the engine
     * is idle or held since), else one taken between two steps.
     */
    public KvBlockMap blockMapNow() {
        KvBlockMap m = published.blockMaps.acquireCurrent();
        if (m != null) {
            return m;
        }
        return inspect(() -> {
            published.publishBlockMap();
            return published.blockMaps.acquire();
        });
    }

    /**
     * Test hook: runs on the engine thread after each step, once that step's gauges and block map are published
     * (null: none). A hook that waits holds the engine between two steps.
     */
    public void setStepHook(Runnable hook) {
        stepHook = hook;
    }

    /**
     * Test hook: hears the id of each abort once it is posted (on the aborting thread; null: none), so a test holding
     * the engine can wait for a particular request's abort rather than for a count.
     */
    public void setAbortHook(Consumer<String> hook) {
        abortHook = hook;
    }

    /** Test hook: wraps the model's forward pass from the next step on (applied on the engine thread). */
    void wrapForward(UnaryOperator<ModelRunner.Forward> wrapper) {
        inspect(() -> {
            runner.wrapForward(wrapper);
            return null;
        });
    }

    private void step() {
        long t0 = System.nanoTime();
        ScheduledBatch<SeqState> b = scheduler.schedule();
        outputs.endIgnored(b.ignored());
        if (b.size() == 0) {
            return;
        }
        for (int i = 0; i < b.size(); i++) {
            RequestState r = b.sequence(i).owner().request;
            if (r.firstScheduledNanos == 0) {
                r.firstScheduledNanos = t0;
                // Admission starts a sequence past its cached prefix: what is computed already came from the cache.
                r.cachedPromptTokens = b.sequence(i).computed();
            }
        }
        runner.execute(b);
        stats.onStep(b, scheduler.numRunning(), allocator.usedBlocks());
        outputs.recordPromptLogprobs(b, runner);
        scheduler.advance(b);
        outputs.processOutputs(b, runner);
        stats.onStepTime(b, System.nanoTime() - t0);
    }

    /** A step failed: its requests end with the error (blocks freed); the engine goes on with new ones. */
    private void failAll(Throwable e) {
        outputs.failAll(e);
        StackTraceElement[] where = e.getStackTrace();
        System.err.println("pagoda: engine step failed, its requests were ended: " + e
                + (where.length > 0 ? " (at " + where[0] + ")" : ""));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        inbox.add(() -> {
            outputs.abortAll();
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
