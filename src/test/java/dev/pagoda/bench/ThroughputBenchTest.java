package dev.pagoda.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagoda.PagodaException;
import dev.pagoda.TestData;
import dev.pagoda.bench.ThroughputBench.Options;
import dev.pagoda.bench.ThroughputBench.RunResult;
import dev.pagoda.bench.ThroughputBench.Sharing;
import dev.pagoda.bench.ThroughputBench.Variant;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Small offline runs on stories260K: exact token counts, batch and KV figures within their bounds. */
class ThroughputBenchTest {
    private static final EngineConfig SMALL = EngineConfig.builder().maxNumSeqs(4).maxNumBatchedTokens(64).kvCacheMemory(4 << 20).build();
    private static Model model;

    @BeforeAll
    static void open() {
        model = ModelLoader.open(TestData.path("models/stories260K/stories260K.gguf"));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void fixedWorkloadRunsEveryRequestToItsLength() {
        Options o = new Options(ThroughputWorkload.parse("fixed:12:10"), 6, 0, 1, 1);
        List<Integer> progress = new CopyOnWriteArrayList<>();
        Variant v = ThroughputBench.variants(List.of(KvLayout.PAGED), true, o).getFirst();
        assertThat(v).isEqualTo(new Variant(KvLayout.PAGED, true, Sharing.NONE));
        RunResult r = ThroughputBench.run(model, SMALL, v, o, progress::add);

        assertThat(r.requests()).isEqualTo(6);
        assertThat(r.promptTokens()).isEqualTo(6 * 12);
        assertThat(r.outputTokens()).isEqualTo(6 * 10);
        assertThat(progress).containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6);
        assertThat(r.elapsedSeconds()).isPositive();
        assertThat(r.outputTokensPerSecond()).isCloseTo(60 / r.elapsedSeconds(), org.assertj.core.data.Percentage.withPercentage(1e-9));
        assertThat(r.totalTokensPerSecond()).isGreaterThan(r.outputTokensPerSecond());
        assertThat(r.requestsPerSecond()).isPositive();
        // At most --max-num-seqs run at once; 6 requests of 10 tokens need at least 2 rounds of decoding.
        assertThat(r.peakRunning()).isBetween(1, 4);
        assertThat(r.meanRunning()).isGreaterThan(0).isLessThanOrEqualTo(4);
        assertThat(r.steps()).isGreaterThanOrEqualTo(20);
        assertThat(r.kvBlocksTotal()).isPositive();
        assertThat(r.kvBlocksPeak()).isBetween(0, r.kvBlocksTotal());
        assertThat(r.kvUsagePeak()).isBetween(0.0, 1.0);
        assertThat(r.kvUsageMean()).isBetween(0.0, r.kvUsagePeak());
        assertThat(r.preemptions()).isZero();
        assertThat(r.maxModelLen()).isEqualTo(model.config().contextLength());
    }

    /**
     * Clients asking for the rest of the context, KV memory for 2 max-length requests: contiguous runs 2 at a time,
     * paged all 8. Every request ends exactly at its workload length (the EOS stand-in acts between two steps) and
     * every request is in the first step, so the step counts are exact whatever the machine's load.
     */
    @Test
    void openEndedRequestsEndAtTheirLengthBeforeTheNextStep() {
        Options o = new Options(ThroughputWorkload.parse("fixed:8:6"), 8, 0, 1, 1, true);
        // stories260K: 5 layers x 4 KV heads x 8 dims x 2 (K and V) x 4 bytes = 1280 bytes per token.
        EngineConfig twoFull = EngineConfig.builder().maxModelLen(64).blockSize(4).maxNumSeqs(16).maxNumBatchedTokens(64)
                .kvCacheMemory(2 * 64 * 1280).build();
        RunResult paged = ThroughputBench.run(model, twoFull, new Variant(KvLayout.PAGED, true, Sharing.NONE), o, done -> { });
        RunResult contiguous = ThroughputBench.run(model, twoFull, new Variant(KvLayout.CONTIGUOUS, true, Sharing.NONE), o, done -> { });

        assertThat(paged.fullLengthRequests(4)).isEqualTo(2);
        for (RunResult r : List.of(paged, contiguous)) {
            assertThat(r.outputTokens()).as(r.variant().label()).isEqualTo(8 * 6);
            assertThat(r.preemptions()).isZero();
        }
        for (RunResult r : List.of(paged, contiguous)) {
            // Prompt and output tokens through the model once each, but the last output token (sampled, never fed back).
            assertThat(r.computedTokens()).as(r.variant().label()).isEqualTo(8 * (8 + 6 - 1));
        }
        // Paged: one step prefills all 8 prompts (64 tokens, the budget) and samples their first token, 5 decode the rest.
        assertThat(paged.peakRunning()).isEqualTo(8);
        assertThat(paged.steps()).isEqualTo(6);
        // Contiguous: 4 rounds of 2 requests, 6 steps each (the next pair is admitted as the last one ends).
        assertThat(contiguous.peakRunning()).isEqualTo(2);
        assertThat(contiguous.steps()).isEqualTo(24);
    }

    /** Paged memory for a third of what 8 growing requests end up needing: recompute computes again what swap copies. */
    @Test
    void recomputePreemptionComputesAgainWhatSwapCopies() {
        Options o = new Options(ThroughputWorkload.parse("fixed:8:24"), 8, 0, 1, 1);
        EngineConfig small = EngineConfig.builder().maxModelLen(64).blockSize(4).maxNumSeqs(16).maxNumBatchedTokens(64)
                .kvCacheMemory(2 * 64 * 1280).swapSpace(1 << 20).build();
        Variant paged = new Variant(KvLayout.PAGED, true, Sharing.NONE);
        RunResult recompute = ThroughputBench.run(model, small.toBuilder().preemptionMode("recompute").build(), paged, o, done -> { });
        RunResult swap = ThroughputBench.run(model, small.toBuilder().preemptionMode("swap").build(), paged, o, done -> { });

        assertThat(recompute.recomputePreemptions()).isPositive();
        assertThat(swap.swapPreemptions()).isPositive();
        assertThat(swap.recomputePreemptions()).isZero();
        for (RunResult r : List.of(recompute, swap)) {
            assertThat(r.outputTokens()).isEqualTo(8 * 24);
        }
        assertThat(swap.computedTokens()).isEqualTo(8 * (8 + 24 - 1));
        assertThat(recompute.computedTokens()).isGreaterThan(swap.computedTokens());
    }

    /** Requests are added on the engine thread: one the engine refuses fails the run for its caller, with the reason. */
    @Test
    void aRefusedRequestFailsTheRunWithItsReason() {
        Options o = new Options(ThroughputWorkload.parse("fixed:40:4"), 3, 0, 1, 1);
        EngineConfig tiny = EngineConfig.builder().maxModelLen(64).blockSize(4).kvCacheMemory(16 * 1280).build();
        assertThatThrownBy(() -> ThroughputBench.run(model, tiny, new Variant(KvLayout.PAGED, true, Sharing.NONE), o, done -> { }))
                .isInstanceOf(PagodaException.class).hasMessageContaining("KV cache");
    }

    @Test
    void variantsCoverLayoutsPrefixCachingAndSharing() {
        Options prefix = new Options(ThroughputWorkload.parse("prefix:32:4:4"), 2, 0, 1, 1);
        assertThat(ThroughputBench.variants(List.of(KvLayout.PAGED, KvLayout.CONTIGUOUS), true, prefix)).containsExactly(
                new Variant(KvLayout.PAGED, true, Sharing.NONE), new Variant(KvLayout.PAGED, false, Sharing.NONE),
                new Variant(KvLayout.CONTIGUOUS, true, Sharing.NONE), new Variant(KvLayout.CONTIGUOUS, false, Sharing.NONE));
        Options n4 = new Options(ThroughputWorkload.parse("fixed:8:8"), 2, 0, 4, 1);
        assertThat(ThroughputBench.variants(List.of(KvLayout.PAGED), true, n4)).containsExactly(
                new Variant(KvLayout.PAGED, true, Sharing.SHARED), new Variant(KvLayout.PAGED, false, Sharing.SEPARATE));
        assertThatThrownBy(() -> new Options(ThroughputWorkload.parse("fixed:8:8"), 2, 0, 2, 2)).isInstanceOf(PagodaException.class);
        assertThatThrownBy(() -> new Options(ThroughputWorkload.parse("fixed:8:8"), 0, 0, 1, 1)).isInstanceOf(PagodaException.class);
    }

    @Test
    void prefixWorkloadComparesCachingOnAndOff() {
        Options o = new Options(ThroughputWorkload.parse("prefix:48:4:4"), 4, 0, 1, 1);
        List<RunResult> runs = runAll(o, List.of(KvLayout.PAGED), SMALL);
        assertThat(runs).allSatisfy(r -> assertThat(r.outputTokens()).isEqualTo(16));
        assertThat(runs.get(0).prefixHitTokens()).as("prefix cache hits with caching on").isPositive();
        assertThat(runs.get(1).prefixQueriedTokens()).isZero();
        List<ThroughputReport.Comparison> c = ThroughputReport.comparisons(runs);
        assertThat(c).singleElement().satisfies(x -> {
            assertThat(x.axis()).isEqualTo("prefix_caching");
            assertThat(x.a().variant().prefixCaching()).isTrue();
            assertThat(x.b().variant().prefixCaching()).isFalse();
            assertThat(x.throughputRatio()).isPositive();
        });
    }

    @Test
    void parallelSamplingSharesThePromptsBlocks() {
        Options o = new Options(ThroughputWorkload.parse("fixed:40:6"), 2, 0, 3, 1);
        // Room for every sample at once: forks beyond --max-num-seqs are the engine's to bound, not this test's subject.
        List<RunResult> runs = runAll(o, List.of(KvLayout.PAGED), SMALL.toBuilder().maxNumSeqs(8).build());
        assertThat(runs).extracting(r -> r.variant().sharing()).containsExactly(Sharing.SHARED, Sharing.SEPARATE);
        assertThat(runs).allSatisfy(r -> {
            assertThat(r.requests()).isEqualTo(2);
            assertThat(r.promptTokens()).isEqualTo(2 * 40);
            assertThat(r.outputTokens()).isEqualTo(2 * 3 * 6);
        });
        ThroughputReport.Comparison sharing = ThroughputReport.comparisons(runs).getFirst();
        assertThat(sharing.axis()).isEqualTo("sharing");
        // Shared: 2 full prompt blocks per request held once instead of three times.
        assertThat(sharing.a().kvBlocksPeak()).isLessThan(sharing.b().kvBlocksPeak());
        assertThat(sharing.kvBlocksPeakRatio()).isLessThan(1.0);
    }

    @Test
    void beamSearchSharesBlocksAndRunsSeparateOnTheContiguousLayout() {
        Options o = new Options(ThroughputWorkload.parse("fixed:40:6"), 2, 0, 1, 3);
        List<RunResult> runs = runAll(o, List.of(KvLayout.PAGED, KvLayout.CONTIGUOUS), SMALL.toBuilder().maxNumSeqs(8).build());
        assertThat(runs).extracting(RunResult::variant).containsExactly(new Variant(KvLayout.PAGED, true, Sharing.SHARED),
                new Variant(KvLayout.PAGED, false, Sharing.SEPARATE), new Variant(KvLayout.CONTIGUOUS, false, Sharing.SEPARATE));
        assertThat(runs).allSatisfy(r -> assertThat(r.outputTokens()).isEqualTo(2 * 3 * 6));
        List<ThroughputReport.Comparison> c = ThroughputReport.comparisons(runs);
        assertThat(c).extracting(ThroughputReport.Comparison::axis).containsExactlyInAnyOrder("kv_layout", "sharing");
        assertThat(c).filteredOn(x -> x.axis().equals("sharing")).singleElement()
                .satisfies(x -> assertThat(x.kvBlocksPeakRatio()).isLessThan(1.0));
    }

    private static List<RunResult> runAll(Options o, List<KvLayout> layouts, EngineConfig config) {
        List<RunResult> runs = new ArrayList<>();
        for (Variant v : ThroughputBench.variants(layouts, true, o)) {
            runs.add(ThroughputBench.run(model, config, v, o, done -> { }));
        }
        return runs;
    }
}
