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
}
