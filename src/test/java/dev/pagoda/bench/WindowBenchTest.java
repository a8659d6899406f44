package dev.pagoda.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.bench.SyntheticWorkload.Request;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code bench memory --window}: what releasing the blocks out of a sliding window saves, model-free. */
class WindowBenchTest {
    /**
     * One request (prompt 3, output 10: 12 positions with K/V at the end) in blocks of 4 with a window of 4: keeping
     * every block it ends with 3; with release a step never computes with more than the 2 blocks its window and
     * new token span, and the run is the same otherwise.
     */
    @Test
    void oneRequestHoldsItsWindowOnly() {
        MemoryBench.Config config = new MemoryBench.Config(SyntheticWorkload.SEED, 1, 0, 64, 4, 16, 16);
        WindowResult w = WindowBench.run(4, 100, List.of(new Request(3, 10)), config);
        assertThat(w.kept().peakBlocks()).isEqualTo(3);
        assertThat(w.released().peakBlocks()).isEqualTo(2);
        assertThat(w.released().meanBlocks()).isLessThan(w.kept().meanBlocks());
        assertThat(w.capacityKept().steps()).isEqualTo(10).isEqualTo(w.capacityReleased().steps());
        assertThat(w.capacityReleased().preemptions()).isZero();
        assertThat(w.bytesPerBlock()).isEqualTo(100);
    }

    @Test
    void aWindowLongerThanEverySequenceSavesNothing() {
        MemoryBench.Config config = new MemoryBench.Config(SyntheticWorkload.ALPACA, 60, 1, 2048, 16, 256, 256);
        WindowResult w = MemoryBench.run(config, null, 0, new MemoryBench.Window(256, 1)).window();
        assertThat(w.released()).isEqualTo(w.kept());
        assertThat(w.capacityReleased()).isEqualTo(w.capacityKept());
        assertThat(w.savedFraction()).isZero();
    }

    /** Long outputs past the window: release holds much less at equal work and fits more requests in the budget. */
    @Test
    void longOutputsPastTheWindowSaveBlocksAndFitMoreRequests() throws Exception {
        MemoryBench.Config config = new MemoryBench.Config(new ScaledShareGptWorkload(40, 600), 60, 2, 4096, 16, 1024,
                1024);
        MemoryBench.Result r = MemoryBench.run(config, null, 0, new MemoryBench.Window(128, 2048));
        WindowResult w = r.window();
        assertThat(w.savedFraction()).isGreaterThan(0.3);
        assertThat(w.released().peakBlocks()).isLessThanOrEqualTo(4096 / 16);
        assertThat(w.kept().peakBlocks()).as("at equal work the kept blocks exceed the budget").isGreaterThan(4096 / 16);
        assertThat(w.capacityReleased().requestsFit()).isGreaterThan(1.5 * w.capacityKept().requestsFit());
        assertThat(w.capacityKept().requestsFit()).as("keeping every block is today's paged run")
                .isEqualTo(r.paged().requestsFit());
        assertThat(MemoryBench.run(config, null, 0, new MemoryBench.Window(128, 2048))).as("deterministic")
                .isEqualTo(r);

        JsonNode json = new ObjectMapper().readTree(MemoryBenchReport.json(r)).path("sliding_window");
        assertThat(json.path("bytes_per_block").asLong()).isEqualTo(2048);
        assertThat(json.path("equal_work").path("release").path("mean_blocks").asDouble()).isEqualTo(w.released().meanBlocks());
        assertThat(json.path("capacity").path("keep_all").path("steps").asInt()).isEqualTo(w.capacityKept().steps());
        assertThat(MemoryBenchReport.table(r)).contains("sliding window of 128 tokens", "keep all", "release", "saved",
                "requests fit", "MiB");
    }

    @Test
    void scaledShareGptHasItsMeans() {
        List<Request> long_ = new ScaledShareGptWorkload(161, 8192).generate(20000, 3, 65536);
        assertThat(long_.stream().mapToInt(Request::promptTokens).average().orElseThrow()).isBetween(145.0, 175.0);
        assertThat(long_.stream().mapToInt(Request::outputTokens).average().orElseThrow()).isBetween(7700.0, 8700.0);
        assertThat(MemoryWorkload.parse("sharegpt:161:8192")).isEqualTo(new ScaledShareGptWorkload(161, 8192));
        assertThat(MemoryWorkload.parse("sharegpt:161:8192").label()).isEqualTo("sharegpt:161:8192");
    }
}
