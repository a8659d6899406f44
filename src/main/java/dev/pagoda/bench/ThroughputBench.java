package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.ThroughputWorkload.BenchRequest;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.EngineStats;
import dev.pagoda.engine.LLMEngine;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.engine.RequestHandle;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvMemoryUsage;
import dev.pagoda.model.Model;
import dev.pagoda.sampling.BeamSearchParams;
import dev.pagoda.constraint.Constraint;
import dev.pagoda.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Offline throughput, as vLLM's benchmark measures it: every request is submitted at once (ignoring EOS, each
 * generating the workload's output length) and the engine runs until all are done. One invocation may run
 * several variants of the engine on the same requests (layouts, prefix caching on and off, samples sharing
 * their prompt's blocks or not) so they can be compared.
 */
public final class ThroughputBench {
    /** Count, prompt and output length of the JIT warm-up requests, run once before the first timed run. */
    private static final int WARMUP_REQUESTS = 4, WARMUP_PROMPT = 32, WARMUP_OUTPUT = 16;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private ThroughputBench() {
    }

    /**
     * What to run.
     *
     * @param n         samples per request (parallel sampling); 1 for plain requests
     * @param beamWidth beams per request; 1 for no beam search
     * @param openEnded requests ask for all the context left (max_tokens = max model length - prompt, what an
     *                  OpenAI client gets when it sends none) and end at their workload length as if by EOS: the
     *                  bench aborts each one when its last token is out
     *                  ({@link WorkloadEos}, before the next step). The contiguous layout then reserves what
     *                  clients ask for, not the length they will turn out to need (the paper's setting).
     * @param guided    when set, every variant runs twice, side by side: unconstrained, then with this guided-decoding
     *                  constraint on every request (the mask's cost on the decode step)
     */
    public record Options(ThroughputWorkload workload, int numRequests, long seed, int n, int beamWidth, boolean openEnded,
                          Constraint guided) {
        public Options(ThroughputWorkload workload, int numRequests, long seed, int n, int beamWidth) {
            this(workload, numRequests, seed, n, beamWidth, false);
        }

        public Options(ThroughputWorkload workload, int numRequests, long seed, int n, int beamWidth, boolean openEnded) {
            this(workload, numRequests, seed, n, beamWidth, openEnded, null);
        }

        public Options {
            if (numRequests < 1) {
                throw new PagodaException("--num-prompts must be at least 1, got " + numRequests);
            }
            if (n < 1 || beamWidth < 1) {
                throw new PagodaException("--n and --beam-width must be at least 1, got " + n + " and " + beamWidth);
            }
            if (n > 1 && beamWidth > 1) {
                throw new PagodaException("--n and --beam-width are two decoding algorithms: give one of them");
            }
        }

        /** Sequences each request becomes: its samples or its beams. */
        public int width() {
            return Math.max(n, beamWidth);
        }
    }

    /** How a request's samples or beams hold their prompt: as one request forking shared blocks, or as separate requests. */
    public enum Sharing {
        /** One sequence per request (n = 1, no beams): nothing to share. */
        NONE,
        /** One request with n samples (or beams) that share the prompt's blocks copy-on-write. */
        SHARED,
        /** n separate requests with the same prompt and prefix caching off: every sample has blocks of its own. */
        SEPARATE;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One engine configuration of the comparison; {@code guided} the requests' constraint, or null. */
    public record Variant(KvLayout layout, boolean prefixCaching, Sharing sharing, Constraint guided) {
        public Variant(KvLayout layout, boolean prefixCaching, Sharing sharing) {
            this(layout, prefixCaching, sharing, null);
        }

        public EngineConfig apply(EngineConfig base) {
            return base.toBuilder().kvLayout(layout).enablePrefixCaching(prefixCaching).build();
        }

        public String label() {
            return layout.label() + (prefixCaching ? "" : ", no prefix caching") + (sharing == Sharing.NONE ? "" : ", " + sharing.label())
                    + (guided == null ? "" : ", " + guided.kind().name().toLowerCase(Locale.ROOT));
        }
    }

    /**
     * Figures of one run. Requests and prompt tokens count the workload's requests (a request of n samples is one,
     * its prompt counted once, also when its samples ran as separate requests); output tokens count every sample's.
     *
     * @param computedTokens      tokens the model computed K/V for, over all steps: prompts, outputs, and what
     *                            recompute preemption computes again (swap copies K/V instead)
     * @param meanRunning         mean sequences per engine step
     * @param kvUsageMean         KV slots allocated or reserved over all slots, mean of the samples taken during the run
     * @param kvBlocksPeak        most KV blocks in use at once: after every step for the paged layout, sampled for the
     *                            contiguous one
     * @param prefixQueriedTokens prompt tokens looked up in the prefix cache
     * @param prefixHitTokens     of those, tokens served from cached blocks
     */
    public record RunResult(Variant variant, int requests, long promptTokens, long outputTokens, double elapsedSeconds,
                            long steps, long computedTokens, double meanRunning, int peakRunning, long recomputePreemptions, long swapPreemptions,
                            double kvUsageMean, double kvUsagePeak, int kvBlocksPeak, int kvBlocksTotal,
                            long prefixQueriedTokens, long prefixHitTokens, int maxModelLen, double decodeTokensPerSecond) {
        public double requestsPerSecond() {
            return requests / elapsedSeconds;
        }

        public double outputTokensPerSecond() {
            return outputTokens / elapsedSeconds;
        }

        public double totalTokensPerSecond() {
            return (promptTokens + outputTokens) / elapsedSeconds;
        }

        public long preemptions() {
            return recomputePreemptions + swapPreemptions;
        }

        /** Requests of the max model length the KV cache holds at once: what the contiguous layout admits when clients ask for it. */
        public long fullLengthRequests(int blockSize) {
            return (long) kvBlocksTotal * blockSize / maxModelLen;
        }

        /** Share of the looked-up prompt tokens that the prefix cache served; 0 when nothing was looked up. */
        public double prefixHitRate() {
            return prefixQueriedTokens == 0 ? 0 : (double) prefixHitTokens / prefixQueriedTokens;
        }
    }

    /**
     * The variants an invocation runs, in order, for each layout: for a shared-prefix workload prefix caching on
     * then off (otherwise as configured); for n or beam width above 1, those shared, then once separate (which
     * shares nothing: prefix caching off). Beam search needs forks, so the contiguous layout runs beams separate only.
     */
    public static List<Variant> variants(List<KvLayout> layouts, boolean prefixCaching, Options o) {
        List<Boolean> caching = o.workload().sharesPrefix() ? List.of(true, false) : List.of(prefixCaching);
        List<Variant> out = new ArrayList<>();
        for (KvLayout l : layouts) {
            for (boolean c : caching) {
                if (o.beamWidth() == 1 || l == KvLayout.PAGED) {
                    out.add(new Variant(l, c, o.width() > 1 ? Sharing.SHARED : Sharing.NONE));
                }
            }
            if (o.width() > 1) {
                out.add(new Variant(l, false, Sharing.SEPARATE));
            }
        }
        if (o.guided() != null) {
            List<Variant> paired = new ArrayList<>();
            for (Variant v : out) {
                paired.add(v);
                paired.add(new Variant(v.layout(), v.prefixCaching(), v.sharing(), o.guided()));
            }
            return paired;
        }
        return out;
    }

    /**
     * A few short requests (with the options' n or beam width) through a throwaway engine of the variant's
     * configuration, so the first timed run is not the JIT's, and an engine that refuses the requests says so
     * before any timed run.
     */
    public static void warmUp(Model model, EngineConfig base, Variant variant, Options o) {
        Options warm = new Options(new ThroughputWorkload.Fixed(WARMUP_PROMPT, WARMUP_OUTPUT), WARMUP_REQUESTS, 1, o.n(), o.beamWidth());
        run(model, base, variant, warm, done -> { });
    }

    /**
     * Runs the workload through a new engine of {@code base} changed as the variant says. {@code progress} receives
     * the number of completed requests (from the engine thread).
     */
    public static RunResult run(Model model, EngineConfig base, Variant variant, Options o, IntConsumer progress) {
        try (LLMEngine engine = new LLMEngine(model, variant.apply(base))) {
            List<BenchRequest> requests = o.workload().requests(o.numRequests(), o.seed(), engine.maxModelLen(), model.tokenizer());
            AtomicInteger completed = new AtomicInteger();
            List<CompletableFuture<List<RequestResult>>> done = new ArrayList<>(requests.size());
            long elapsedNanos;
            try (KvSampler kv = new KvSampler(engine)) {
                WorkloadEos eos = new WorkloadEos(engine);
                long t0 = System.nanoTime();
                // Added on the engine thread between two steps: the first step sees every request, in either layout. A
                // request the engine refuses is handed back, not thrown there (it would fail the engine, not this caller).
                RuntimeException refused = engine.inspect(() -> {
                    try {
                        for (int i = 0; i < requests.size(); i++) {
                            CompletableFuture<List<RequestResult>> request = submit(engine, i, requests.get(i), o, variant, eos);
                            request.whenComplete((r, e) -> progress.accept(completed.incrementAndGet()));
                            done.add(request);
                        }
                        return null;
                    } catch (RuntimeException e) {
                        return e;
                    }
                });
                if (refused != null) {
                    throw refused;
                }
                done.forEach(ThroughputBench::join);
                elapsedNanos = System.nanoTime() - t0;
                KvMemoryUsage left = engine.kvUsage();
                if (left.sequences() != 0 || left.blocksUsed() != 0) {
                    // Every request finished or was ended: a block still held is a leak, and the figures would lie.
                    throw new IllegalStateException("KV blocks not back in the pool after the run: " + left);
                }
                EngineStats.Snapshot s = engine.stats();
                long prompt = requests.stream().mapToLong(r -> r.prompt().length).sum();
                long output = done.stream().flatMap(f -> f.join().stream()).flatMap(r -> r.outputs().stream())
                        .mapToLong(c -> c.tokenIds().length).sum();
                kv.close(); // stop sampling before reading its figures (the close at the end of the block is a no-op)
                return new RunResult(variant, requests.size(), prompt, output, elapsedNanos / 1e9, s.steps(), s.batchedTokens(), s.meanRunning(),
                        s.peakRunning(), s.recomputePreemptions(), s.swapPreemptions(), kv.meanUsage(),
                        Math.max(kv.peakUsage(), (double) s.peakBlocksUsed() / kv.totalBlocks()),
                        Math.max(s.peakBlocksUsed(), kv.peakBlocksUsed()), kv.totalBlocks(), s.prefixQueriedTokens(),
                        s.prefixHitTokens(), engine.maxModelLen(), s.decodeTokensPerSecond());
            }
        }
    }

    /** Submits request {@code i} as the sharing mode says; completes with its results (one, or one per separate sample). */
    private static CompletableFuture<List<RequestResult>> submit(LLMEngine engine, int i, BenchRequest r, Options o, Variant variant,
                                                                 WorkloadEos eos) {
        long seed = o.seed() * GOLDEN + i;
        Sharing sharing = variant.sharing();
        Constraint guided = variant.guided();
        if (sharing == Sharing.SEPARATE) {
            List<CompletableFuture<RequestResult>> parts = new ArrayList<>();
            for (int k = 0; k < o.width(); k++) {
                parts.add(engine.addRequest("r" + i + "." + k, r.prompt(), params(r, 1, seed + GOLDEN * k, guided)).result());
            }
            return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                    .thenApply(v -> parts.stream().map(CompletableFuture::join).toList());
        }
        if (o.beamWidth() > 1) {
            // Every beam runs to the output length (EOS ignored), so the beams' work is the separate requests'.
            BeamSearchParams beams = new BeamSearchParams(o.beamWidth(), 1f, BeamSearchParams.EarlyStopping.FALSE, r.outputTokens(), true);
            return engine.addBeamSearch("r" + i, r.prompt(), beams).result().thenApply(List::of);
        }
        if (o.openEnded() && o.n() == 1) {
            SamplingParams p = params(r, 1, seed, guided).toBuilder().maxTokens(engine.maxModelLen() - r.prompt().length).build();
            RequestHandle h = engine.addRequest("r" + i, r.prompt(), p);
            eos.watch(h, r.outputTokens());
            return h.result().thenApply(List::of);
        }
        return engine.addRequest("r" + i, r.prompt(), params(r, o.n(), seed, guided)).result().thenApply(List::of);
    }

    /** vLLM's benchmark sampling: temperature 1, no truncation, EOS ignored; seeded, so runs repeat. */
    private static SamplingParams params(BenchRequest r, int n, long seed, Constraint guided) {
        return SamplingParams.builder().n(n).temperature(1f).seed(seed).ignoreEos(true).maxTokens(r.outputTokens()).constraint(guided).build();
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
    }
}
