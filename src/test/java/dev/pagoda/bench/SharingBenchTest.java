package dev.pagoda.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.PagodaException;
import dev.pagoda.bench.SyntheticWorkload.Request;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every run also checks inside the bench that all blocks are back in the pool at its end (it throws if not). */
class SharingBenchTest {
    private static final MemoryBench.Config HAND = new MemoryBench.Config(new SharedPrefixWorkload(0, 3, 3), 1, 0, 64,
            4, 8, 8);
    private static final List<Request> ONE = List.of(new Request(3, 3));

    /**
     * Prompt 3, two samples of 3 tokens, blocks of 4. Step 1: the prompt in one block, shared by both (without
     * sharing: 2). Step 2: the first sample copies it (copy-on-write), the second writes in place: 2 and 2.
     * Step 3: both full, a new block each: 4 and 4.
     */
    @Test
    void parallelSamplingByHand() {
        SharingResult r = SharingBench.run(new BlockSharing.ParallelSampling(2), 256, ONE, HAND);
        assertThat(r.with().meanBlocks()).isEqualTo(7.0 / 3);
        assertThat(r.without().meanBlocks()).isEqualTo(8.0 / 3);
        assertThat(r.with().peakBlocks()).isEqualTo(4);
        assertThat(r.without().peakBlocks()).isEqualTo(4);
        assertThat(r.with().meanTokenSlots()).isEqualTo(7.0); // (3 + 8 + 10) / 3
        assertThat(r.without().meanTokenSlots()).isEqualTo(8.0); // (6 + 8 + 10) / 3
        assertThat(r.savedFraction()).isCloseTo(1.0 / 8, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(r.capacityWith().steps()).isEqualTo(3);
    }

    /**
     * Width 2, every new beam picks the best one (decay ~0). Step 1: the prompt, 1 block. Step 2: forked in two;
     * beam 0 copies the partial block, beam 1 writes in place: 2 blocks, 2 without sharing. Step 3: beam 1 is
     * freed, beam 0 forked again: its full block shared, a new block each: 3 blocks, 4 without sharing.
     */
    @Test
    void beamSearchByHand() {
        SharingResult r = SharingBench.run(new BlockSharing.BeamSearch(2, 1e-12), 256, ONE, HAND);
        assertThat(r.with().meanBlocks()).isEqualTo(2.0);
        assertThat(r.without().meanBlocks()).isEqualTo(7.0 / 3);
        assertThat(r.with().peakBlocks()).isEqualTo(3);
        assertThat(r.without().peakBlocks()).isEqualTo(4);
    }

    /**
     * In a cache where nothing is preempted: a preempted request recomputes each sample as a private copy (as the
     * engine does), so under heavy preemption more samples need not save more.
     */
    @Test
    void parallelSamplingNeverUsesMoreAndOneSampleSavesNothing() {
        MemoryBench.Config config = new MemoryBench.Config(SyntheticWorkload.ALPACA, 80, 3, 16384, 16, 512, 512);
        double previous = -1;
        for (int n : new int[] {1, 2, 4, 6}) {
            SharingResult r = MemoryBench.run(config, new BlockSharing.ParallelSampling(n), 256).sharing();
            assertNeverMore(r);
            if (n == 1) {
                assertThat(r.savedFraction()).isZero();
                assertThat(r.with()).isEqualTo(r.without());
                assertThat(r.capacityWith()).isEqualTo(r.capacityWithout());
            } else {
                assertThat(r.savedFraction()).isGreaterThan(previous);
            }
            previous = r.savedFraction();
        }
    }

    @Test
    void beamSearchNeverUsesMoreAndOneBeamSavesNothing() {
        MemoryBench.Config config = new MemoryBench.Config(SyntheticWorkload.SHAREGPT, 40, 5, 8192, 16, 1024, 1024);
        double previous = -1;
        for (int w : new int[] {1, 2, 4}) {
            SharingResult r = MemoryBench.run(config, new BlockSharing.BeamSearch(w, 0.5), 256).sharing();
            assertNeverMore(r);
            if (w == 1) {
                assertThat(r.savedFraction()).isZero();
                assertThat(r.with()).isEqualTo(r.without());
            } else {
                assertThat(r.savedFraction()).isGreaterThan(previous);
            }
            previous = r.savedFraction();
        }
        assertThat(MemoryBench.run(config, new BlockSharing.BeamSearch(4, 0.5), 256))
                .as("deterministic for a seed")
                .isEqualTo(MemoryBench.run(config, new BlockSharing.BeamSearch(4, 0.5), 256));
    }

    @Test
    void preemptedGroupsReturnTheirBlocks() {
        MemoryBench.Config config = new MemoryBench.Config(SyntheticWorkload.SHAREGPT, 60, 2, 4096, 16, 1024, 1024);
        SharingResult samples = MemoryBench.run(config, new BlockSharing.ParallelSampling(4), 256).sharing();
        SharingResult beams = MemoryBench.run(config, new BlockSharing.BeamSearch(4, 0.5), 256).sharing();
        assertThat(samples.capacityWith().preemptions()).isPositive();
        assertThat(beams.capacityWithout().preemptions()).isPositive();
        assertNeverMore(samples);
        assertNeverMore(beams);
    }

    @Test
    void prefixCachingSavesBlocksOnlyWhenThePrefixFillsABlock() {
        SharingResult r = prefix(64, 8, 16);
        assertNeverMore(r);
        assertThat(r.savedFraction()).isGreaterThan(0.5);
        assertThat(r.capacityWith().requestsFit()).isGreaterThan(r.capacityWithout().requestsFit());
        assertThat(r.prefixCache().hitTokens()).isPositive();

        // A preempted request may hit its own cached prompt, but no two requests share a block.
        assertThat(prefix(12, 8, 16).savedFraction()).isZero();
    }

    private static SharingResult prefix(int shared, int unique, int out) {
        MemoryBench.Config config = new MemoryBench.Config(new SharedPrefixWorkload(shared, unique, out), 100, 1,
                1024, 16, 256, 256);
        return MemoryBench.run(config, new BlockSharing.PrefixCaching(), 256).sharing();
    }

    @Test
    void prefixCachingNeedsAPrefixWorkload() {
        MemoryBench.Config config = new MemoryBench.Config(SyntheticWorkload.ALPACA, 10, 1, 1024, 16, 256, 256);
        assertThatThrownBy(() -> MemoryBench.run(config, new BlockSharing.PrefixCaching(), 256))
                .isInstanceOf(PagodaException.class).hasMessageContaining("prefix:SHARED:UNIQUE:OUT");
    }

    @Test
    void workloadSpecs() {
        assertThat(MemoryWorkload.parse("prefix:512:64:128")).isEqualTo(new SharedPrefixWorkload(512, 64, 128));
        assertThat(MemoryWorkload.parse("ShareGPT")).isEqualTo(SyntheticWorkload.SHAREGPT);
        assertThatThrownBy(() -> MemoryWorkload.parse("prefix:1:x:3")).isInstanceOf(PagodaException.class)
                .hasMessageContaining("'x'");
        assertThatThrownBy(() -> MemoryWorkload.parse("prefix:0:0:3")).isInstanceOf(PagodaException.class);
        assertThatThrownBy(() -> MemoryWorkload.parse("nope")).isInstanceOf(PagodaException.class)
                .hasMessageContaining("prefix:SHARED:UNIQUE:OUT");
        List<Request> capped = new SharedPrefixWorkload(300, 100, 50).generate(3, 0, 256);
        assertThat(capped).containsOnly(new Request(255, 1));
        List<int[]> ids = new SharedPrefixWorkload(20, 5, 4).tokenIds(
                new SharedPrefixWorkload(20, 5, 4).generate(2, 7, 256), 7, 256);
        assertThat(ids.get(0)).hasSize(29).startsWith(java.util.Arrays.copyOf(ids.get(1), 20));
        assertThat(ids.get(0)[20]).isNotEqualTo(ids.get(1)[20]);
    }

    @Test
    void tableAndJsonKeepTheLayoutKeysAndAddTheSharing() throws Exception {
        MemoryBench.Result r = MemoryBench.run(
                new MemoryBench.Config(SyntheticWorkload.ALPACA, 50, 2, 4096, 16, 512, 512),
                new BlockSharing.ParallelSampling(4), 256);
        JsonNode json = new ObjectMapper().readTree(MemoryBenchReport.json(r));
        assertThat(json.path("paged").path("waste_fraction").isNumber()).isTrue();
        JsonNode s = json.path("sharing");
        assertThat(s.path("mode").asText()).isEqualTo("parallel_sampling");
        assertThat(s.path("n").asInt()).isEqualTo(4);
        assertThat(s.path("equal_work").path("saved_fraction").asDouble()).isEqualTo(r.sharing().savedFraction());
        assertThat(s.path("equal_work").path("with_sharing").path("mean_blocks").asDouble())
                .isEqualTo(r.sharing().with().meanBlocks());
        assertThat(s.path("capacity").path("without_sharing").path("requests_fit").asDouble()).isPositive();
        assertThat(MemoryBenchReport.table(r)).contains("parallel sampling, n = 4", "saved", "no sharing",
                "requests fit");
        assertThat(MemoryBench.run(new MemoryBench.Config(SyntheticWorkload.ALPACA, 50, 2, 4096, 16, 512, 512))
                .sharing()).isNull();
    }

    private static void assertNeverMore(SharingResult r) {
        assertThat(r.with().meanBlocks()).isLessThanOrEqualTo(r.without().meanBlocks());
        assertThat(r.with().peakBlocks()).isLessThanOrEqualTo(r.without().peakBlocks());
        assertThat(r.savedFraction()).isBetween(0.0, 1.0);
    }
}
