package dev.pagoda.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.TestData;
import dev.pagoda.bench.MemoryBench.LayoutResult;
import dev.pagoda.bench.SyntheticWorkload.Request;
import dev.pagoda.kv.KvLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryBenchTest {
    /**
     * Two requests in 16 slots (blocks of 4), max length 8, worked by hand: A = prompt 3, output 2 (final length 4),
     * B = prompt 2, output 4 (final length 5). Both run at once for two steps, then B alone for two more.
     */
    @Test
    void smallRunMatchesHandAccounting() {
        MemoryBench.Config config = new MemoryBench.Config(SyntheticWorkload.SEED, 2, 0, 16, 4, 8, 8);
        List<Request> requests = List.of(new Request(3, 2), new Request(2, 4));

        LayoutResult contiguous = MemoryBench.simulate(KvLayout.CONTIGUOUS, requests, config);
        assertThat(contiguous.steps()).isEqualTo(4);
        assertThat(contiguous.tokenSlots()).isEqualTo(5.25);   // (5 + 7 + 4 + 5) / 4
        assertThat(contiguous.internalFragmentation()).isEqualTo(5); // never used: A 8-4, B 8-5
        assertThat(contiguous.reservedSlots()).isEqualTo(1.75); // (4 + 2 + 1 + 0) / 4
        assertThat(contiguous.freeSlots()).isEqualTo(4);
        assertThat(contiguous.externalFragmentation()).isZero();
        assertThat(contiguous.requestsFit()).isEqualTo(1.5);
        assertThat(contiguous.requestsFitMax()).isEqualTo(2);
        assertThat(contiguous.wasteFraction()).isEqualTo(6.75 / 12);

        LayoutResult paged = MemoryBench.simulate(KvLayout.PAGED, requests, config);
        assertThat(paged.tokenSlots()).isEqualTo(5.25);
        assertThat(paged.internalFragmentation()).isEqualTo(1.75); // (3 + 1 + 0 + 3) / 4
        assertThat(paged.reservedSlots()).isZero();
        assertThat(paged.preemptions()).isZero();
        assertThat(paged.wasteFraction()).isEqualTo(0.25);
    }

    @Test
    void sharegptPagedWastesUnderFourPercentAndFitsMoreRequests() {
        MemoryBench.Config config = new MemoryBench.Config(SyntheticWorkload.SHAREGPT, 300, 1, 15728, 16, 2048, 2048);
        MemoryBench.Result r = MemoryBench.run(config);
        assertThat(r.paged().wasteFraction()).isLessThan(0.04);
        assertThat(r.contiguous().wasteFraction()).isBetween(0.6, 0.85);
        assertThat(r.paged().requestsFit()).isGreaterThan(2 * r.contiguous().requestsFit());
        for (LayoutResult l : List.of(r.paged(), r.contiguous())) {
            assertThat(l.tokenSlots() + l.internalFragmentation() + l.reservedSlots() + l.freeSlots())
                    .isCloseTo(l.totalSlots(), within(1e-6));
        }
        assertThat(MemoryBench.run(config)).as("deterministic for a seed").isEqualTo(r);
    }

    @Test
    void workloadsHaveTheirMeansAndRespectTheMaxLength() {
        List<Request> share = SyntheticWorkload.SHAREGPT.generate(20000, 3, 2048);
        assertThat(share.stream().mapToInt(Request::promptTokens).average().orElseThrow()).isBetween(145.0, 175.0);
        assertThat(share.stream().mapToInt(Request::outputTokens).average().orElseThrow()).isBetween(310.0, 350.0);
        assertThat(share).allMatch(q -> q.promptTokens() >= 1 && q.outputTokens() >= 1
                && q.promptTokens() + q.outputTokens() <= 2048);
        List<Request> alpaca = SyntheticWorkload.ALPACA.generate(20000, 3, 2048);
        assertThat(alpaca.stream().mapToInt(Request::promptTokens).average().orElseThrow()).isBetween(17.0, 21.0);
        assertThat(alpaca.stream().mapToInt(Request::outputTokens).average().orElseThrow()).isBetween(54.0, 62.0);
        assertThat(SyntheticWorkload.SEED.generate(100, 3, 2048))
                .allMatch(q -> List.of(50, 300, 700).contains(q.promptTokens() + q.outputTokens()));
    }

    @Test
    void jsonAndPlot() throws Exception {
        MemoryBench.Result r = MemoryBench.run(
                new MemoryBench.Config(SyntheticWorkload.ALPACA, 100, 2, 4096, 16, 512, 512));
        JsonNode json = new ObjectMapper().readTree(MemoryBenchReport.json(r));
        for (String layout : List.of("paged", "contiguous")) {
            assertThat(json.path(layout).path("waste_fraction").isNumber()).isTrue();
            assertThat(json.path(layout).path("requests_fit").asDouble()).isPositive();
            assertThat(json.path(layout).has("external_fragmentation_slots")).isTrue();
        }
        assertThat(MemoryBenchReport.table(r)).contains("paged", "contiguous", "requests fit");
        Path png = TestData.scratch("bench-memory").resolve("alpaca.png");
        MemoryBenchReport.plot(r, png);
        byte[] bytes = Files.readAllBytes(png);
        assertThat(bytes).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
    }
}
