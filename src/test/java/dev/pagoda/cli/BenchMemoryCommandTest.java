package dev.pagoda.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class BenchMemoryCommandTest {
    @Test
    void sharingOptions() throws Exception {
        CliTest.Run beams = CliTest.run("bench", "memory", "--workload", "alpaca", "--num-prompts", "30",
                "--kv-slots", "4096", "--max-model-len", "512", "--beam-width", "3");
        assertThat(beams.code()).isZero();
        assertThat(beams.out()).contains("beam search, width 3", "saved", "paged", "contiguous");

        CliTest.Run prefix = CliTest.run("bench", "memory", "--workload", "prefix:64:8:16", "--num-prompts", "30",
                "--kv-slots", "1024", "--max-model-len", "256", "--output", "json");
        assertThat(prefix.code()).isZero();
        JsonNode json = new ObjectMapper().readTree(prefix.out());
        assertThat(json.path("workload").asText()).isEqualTo("prefix:64:8:16");
        assertThat(json.path("sharing").path("mode").asText()).isEqualTo("prefix_caching");

        CliTest.Run both = CliTest.run("bench", "memory", "--n", "2", "--beam-width", "2");
        assertThat(both.code()).isNotZero();
        assertThat(both.err()).contains("at most one");
        CliTest.Run badN = CliTest.run("bench", "memory", "--n", "0");
        assertThat(badN.err()).contains("--n must be >= 1");
    }

    @Test
    void slidingWindowOption() throws Exception {
        CliTest.Run run = CliTest.run("bench", "memory", "--workload", "sharegpt:40:600", "--num-prompts", "30",
                "--kv-slots", "4096", "--max-model-len", "1024", "--window", "128", "--output", "json");
        assertThat(run.code()).isZero();
        JsonNode w = new ObjectMapper().readTree(run.out()).path("sliding_window");
        assertThat(w.path("window").asInt()).isEqualTo(128);
        assertThat(w.path("equal_work").path("saved_fraction").asDouble()).isPositive();
        assertThat(w.path("capacity").path("release").path("requests_fit").asDouble())
                .isGreaterThan(w.path("capacity").path("keep_all").path("requests_fit").asDouble());
        CliTest.Run bad = CliTest.run("bench", "memory", "--window", "0");
        assertThat(bad.err()).contains("--window must be >= 1");
        CliTest.Run badWorkload = CliTest.run("bench", "memory", "--workload", "sharegpt:x:5");
        assertThat(badWorkload.err()).contains("sharegpt:IN:OUT");
    }
}
