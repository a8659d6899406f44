package dev.pagoda.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.cli.CliTest.Run;
import org.junit.jupiter.api.Test;

/** {@code pagoda bench throughput} and {@code synth:} model specs as a user runs them. */
class BenchThroughputCommandTest {
    private static final String STORIES = CliTest.model("models/stories260K/stories260K.gguf");

    @Test
    void jsonHasTheFiguresOfEveryRun() throws Exception {
        Run r = CliTest.run("bench", "throughput", "--model", STORIES, "--workload", "fixed:8:6", "--num-prompts", "5",
                "--max-num-seqs", "4", "--kv-cache-memory", "4MiB", "--no-warmup", "--output", "json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().strip()).doesNotContain("\n");
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertThat(root.get("workload").asText()).isEqualTo("fixed:8:6");
        assertThat(root.get("num_requests").asInt()).isEqualTo(5);
        assertThat(root.get("max_num_seqs").asInt()).isEqualTo(4);
        assertThat(root.get("runs")).hasSize(1);
        assertThat(root.get("comparisons")).isEmpty();
        JsonNode run = root.get("runs").get(0);
        assertThat(run.get("kv_layout").asText()).isEqualTo("paged");
        assertThat(run.get("sharing").asText()).isEqualTo("none");
        assertThat(run.get("requests").asInt()).isEqualTo(5);
        assertThat(run.get("prompt_tokens").asLong()).isEqualTo(40);
        assertThat(run.get("output_tokens").asLong()).isEqualTo(30);
        for (String f : new String[] {"elapsed_s", "requests_per_s", "output_tokens_per_s", "total_tokens_per_s", "mean_running",
                "kv_usage_peak", "kv_blocks_total"}) {
            assertThat(run.get(f).asDouble()).as(f).isPositive();
        }
        assertThat(run.get("peak_running").asInt()).isBetween(1, 4);
        assertThat(run.get("preemptions").asLong()).isZero();
        assertThat(run.get("output_tokens_per_s").asDouble() * run.get("elapsed_s").asDouble()).isCloseTo(30.0,
                org.assertj.core.data.Offset.offset(1e-6));
        assertThat(r.err()).contains("5/5");
    }

    @Test
    void bothLayoutsPrintTheirRatio() {
        Run r = CliTest.run("bench", "throughput", "--model", STORIES, "--workload", "fixed:4:2", "--num-prompts", "2",
                "--kv-cache-memory", "4MiB", "--kv-layout", "both", "--no-warmup");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("paged").contains("contiguous").contains("output tok/s")
                .containsPattern("(?m)^paged / contiguous: throughput \\d+\\.\\d\\dx$");
    }

    @Test
    void batchCurvePrintsEverySizeBesideTheRoofline() throws Exception {
        Run table = CliTest.run("bench", "throughput", "--model", STORIES, "--workload", "fixed:4:2", "--num-prompts", "1",
                "--batch-curve", "8", "--no-warmup");
        assertThat(table.code()).as(table.err()).isZero();
        assertThat(table.out()).contains("decode by batch size").contains("bandwidth probe").contains("FMA probe")
                .contains("roofline ridge at batch")
                .containsPattern("(?m)^\\s+batch\\s+tok/s\\s+step ms\\s+x batch 1\\s+roofline tok/s\\s+of roofline$");
        for (int b : new int[] {1, 2, 4, 8}) {
            assertThat(table.out()).containsPattern("(?m)^\\s+" + b + "\\s+\\d+\\.\\d\\s");
        }

        Run json = CliTest.run("bench", "throughput", "--model", STORIES, "--workload", "fixed:4:2", "--num-prompts", "1",
                "--batch-curve", "4", "--no-warmup", "--output", "json");
        assertThat(json.code()).as(json.err()).isZero();
        JsonNode curve = new ObjectMapper().readTree(json.out()).get("batch_curve");
        assertThat(curve.get("bandwidth_gb_s").asDouble()).isPositive();
        assertThat(curve.get("peak_gflops").asDouble()).isPositive();
        assertThat(curve.get("ridge_batch").asDouble()).isPositive();
        assertThat(curve.get("points")).hasSize(3);
        int[] sizes = {1, 2, 4};
        for (int i = 0; i < sizes.length; i++) {
            JsonNode p = curve.get("points").get(i);
            assertThat(p.get("batch").asInt()).isEqualTo(sizes[i]);
            // Every timed step decoded exactly the whole batch: no prefill, no partial batch.
            assertThat(p.get("steps").asLong()).isGreaterThanOrEqualTo(2);
            assertThat(p.get("tokens").asLong()).isEqualTo(sizes[i] * p.get("steps").asLong());
            assertThat(p.get("decode_tokens_per_s").asDouble()).isPositive();
            assertThat(p.get("roofline_tokens_per_s").asDouble()).isPositive();
        }

        Run bad = CliTest.run("bench", "throughput", "--model", STORIES, "--num-prompts", "1", "--batch-curve", "-1");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err().strip()).isEqualTo("pagoda: --batch-curve must be at least 1, got -1");
    }

    @Test
    void maxNumSeqsAtPeakCapsBothLayoutsAtTheCurvesBestBatch() throws Exception {
        Run json = CliTest.run("bench", "throughput", "--model", STORIES, "--workload", "fixed:4:2", "--num-prompts", "3",
                "--kv-cache-memory", "4MiB", "--kv-layout", "both", "--batch-curve", "4", "--max-num-seqs-at-peak", "--no-warmup",
                "--output", "json");
        assertThat(json.code()).as(json.err()).isZero();
        JsonNode root = new ObjectMapper().readTree(json.out());
        JsonNode curve = root.get("batch_curve");
        int peak = curve.get("peak_batch").asInt();
        double best = 0;
        double atPeak = -1;
        for (JsonNode p : curve.get("points")) {
            best = Math.max(best, p.get("decode_tokens_per_s").asDouble());
            if (p.get("batch").asInt() == peak) {
                atPeak = p.get("decode_tokens_per_s").asDouble();
            }
        }
        assertThat(atPeak).isEqualTo(best);
        assertThat(root.get("max_num_seqs").asInt()).isEqualTo(peak);
        for (JsonNode run : root.get("runs")) {
            assertThat(run.get("peak_running").asInt()).isBetween(1, peak);
        }

        Run bad = CliTest.run("bench", "throughput", "--model", STORIES, "--num-prompts", "1", "--max-num-seqs-at-peak");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err().strip()).isEqualTo("pagoda: --max-num-seqs-at-peak needs --batch-curve");
    }

    @Test
    void synthSpecsWorkWhereverAModelIs() {
        Run r = CliTest.run("info", "--model", "synth:tiny:q8_0");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("model:          synth-tiny-q8_0").contains("(synthetic)").contains("Q8_0")
                .contains("vocabulary:     512");
        for (String[] args : new String[][] {
                {"info", "--model", "synth:huge:f32"},
                {"info", "--model", "synth:tiny:q3_k"},
                {"info", "--model", "synth:tiny"},
                {"bench", "throughput", "--model", "synth:nope:f32", "--workload", "fixed:4:4", "--num-prompts", "1"},
                {"bench", "throughput", "--model", STORIES, "--workload", "fixed:4", "--num-prompts", "1"},
                {"bench", "throughput", "--model", STORIES, "--kv-layout", "diagonal", "--num-prompts", "1"},
                {"bench", "throughput", "--model", STORIES, "--workload", "fixed:4:4", "--num-prompts", "1", "--n", "2", "--beam-width", "2"},
                {"bench", "throughput", "--model", STORIES, "--workload", "fixed:4:4", "--num-prompts", "1", "--n", "100", "--max-num-seqs", "4"},
        }) {
            Run bad = CliTest.run(args);
            assertThat(bad.code()).as(String.join(" ", args) + " -> " + bad.err()).isEqualTo(2);
            assertThat(bad.err()).startsWith("pagoda: ").doesNotContain("Exception").doesNotContain("\tat ");
        }
        assertThat(CliTest.run("info", "--model", "synth:huge:f32").err().strip()).isEqualTo(
                "pagoda: unknown shape 'huge' (known: [tiny, llama-76m, llama-76m-v128k, llama-1b])");
    }
}
