package dev.pagoda.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.ThroughputWorkload.BenchRequest;
import dev.pagoda.tokenizer.SyntheticVocabulary;
import dev.pagoda.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ThroughputWorkloadTest {
    private static final Tokenizer VOCAB = SyntheticVocabulary.byteLevel(300, 1).tokenizer();

    @Test
    void parsesEverySpec() {
        assertThat(ThroughputWorkload.parse("sharegpt")).isEqualTo(new ThroughputWorkload.Dataset(SyntheticWorkload.SHAREGPT));
        assertThat(ThroughputWorkload.parse("alpaca").label()).isEqualTo("alpaca");
        assertThat(ThroughputWorkload.parse("fixed:128:64")).isEqualTo(new ThroughputWorkload.Fixed(128, 64));
        ThroughputWorkload prefix = ThroughputWorkload.parse("prefix:64:8:16");
        assertThat(prefix).isEqualTo(new ThroughputWorkload.SharedPrefix(64, 8, 16));
        assertThat(prefix.sharesPrefix()).isTrue();
        assertThat(prefix.label()).isEqualTo("prefix:64:8:16");
    }

    @Test
    void dividedLengthsAreTheFullWorkloadsAgainstALongerContext() {
        ThroughputWorkload w = ThroughputWorkload.parse("sharegpt/4");
        assertThat(w.label()).isEqualTo("sharegpt/4");
        List<BenchRequest> small = w.requests(200, 5, 256, VOCAB);
        List<SyntheticWorkload.Request> full = SyntheticWorkload.SHAREGPT.generate(200, 5, 1024);
        for (int i = 0; i < small.size(); i++) {
            BenchRequest r = small.get(i);
            assertThat(r.prompt().length + r.outputTokens()).isLessThanOrEqualTo(256);
            assertThat(r.prompt().length).isBetween(1, 255).isCloseTo(full.get(i).promptTokens() / 4, within(1));
            assertThat(r.outputTokens()).isGreaterThanOrEqualTo(1).isCloseTo(full.get(i).outputTokens() / 4, within(1));
        }
        assertThat(ThroughputWorkload.parse("alpaca/1")).isEqualTo(ThroughputWorkload.parse("alpaca"));
        assertThat(SyntheticWorkload.Scaled.parse("seed/2").generate(3, 1, 1024)).allSatisfy(
                r -> assertThat(r.promptTokens() + r.outputTokens()).isIn(25, 150, 350));
    }

    @Test
    void badSpecsAreOneLineErrors() {
        for (String bad : new String[] {"sharegpt/0", "sharegpt/x", "sharegpt/", "seed/2", "sharegtp", "seed", "fixed", "fixed:1", "fixed:a:2", "fixed:0:4", "fixed:4:0",
                "prefix:1:2", "prefix:0:0:4", "prefix:-1:4:4", "fixed:1:2:3"}) {
            assertThatThrownBy(() -> ThroughputWorkload.parse(bad)).as(bad).isInstanceOf(PagodaException.class)
                    .message().doesNotContain("\n").contains("workload");
        }
    }

    @Test
    void fixedRequestsAreSeededOrdinaryTokensCappedToTheModelLength() {
        ThroughputWorkload w = ThroughputWorkload.parse("fixed:40:30");
        List<BenchRequest> a = w.requests(5, 7, 1000, VOCAB), b = w.requests(5, 7, 1000, VOCAB), c = w.requests(5, 8, 1000, VOCAB);
        assertThat(a).hasSize(5).allSatisfy(r -> {
            assertThat(r.prompt()).hasSize(40);
            assertThat(r.outputTokens()).isEqualTo(30);
            assertThat(Arrays.stream(r.prompt()).filter(VOCAB::isSpecial)).as("special tokens").isEmpty();
        });
        for (int i = 0; i < 5; i++) {
            assertThat(a.get(i).prompt()).containsExactly(b.get(i).prompt());
        }
        assertThat(Arrays.equals(a.get(0).prompt(), c.get(0).prompt())).isFalse();
        assertThat(Arrays.equals(a.get(0).prompt(), a.get(1).prompt())).isFalse();

        List<BenchRequest> capped = w.requests(2, 7, 50, VOCAB);
        assertThat(capped.get(0).prompt()).hasSize(40);
        assertThat(capped.get(0).outputTokens()).isEqualTo(10);
        assertThat(w.requests(1, 7, 20, VOCAB).get(0)).satisfies(r -> {
            assertThat(r.prompt()).hasSize(19);
            assertThat(r.outputTokens()).isEqualTo(1);
        });
    }

    @Test
    void prefixRequestsShareExactlyTheirPrefix() {
        List<BenchRequest> rs = ThroughputWorkload.parse("prefix:32:8:4").requests(4, 3, 1000, VOCAB);
        int[] first = rs.get(0).prompt();
        for (BenchRequest r : rs) {
            assertThat(r.prompt()).hasSize(40);
            assertThat(Arrays.copyOf(r.prompt(), 32)).containsExactly(Arrays.copyOf(first, 32));
            assertThat(r.outputTokens()).isEqualTo(4);
        }
        assertThat(Arrays.equals(rs.get(0).prompt(), rs.get(1).prompt())).isFalse();
    }

    @Test
    void datasetLengthsAreTheSyntheticWorkloads() {
        List<BenchRequest> rs = ThroughputWorkload.parse("alpaca").requests(20, 5, 2048, VOCAB);
        List<SyntheticWorkload.Request> lengths = SyntheticWorkload.ALPACA.generate(20, 5, 2048);
        for (int i = 0; i < 20; i++) {
            assertThat(rs.get(i).prompt()).hasSize(lengths.get(i).promptTokens());
            assertThat(rs.get(i).outputTokens()).isEqualTo(lengths.get(i).outputTokens());
        }
    }
}
