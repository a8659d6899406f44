package dev.pagoda.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.TestData;
import dev.pagoda.bench.FakeOpenAiServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The command line as a user runs it: output, exit codes, one-line errors. */
class CliTest {
    static final String STORY_60 = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball. She wanted to play with it, but it was too high.";

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        return runWithInput("", args);
    }

    /** Runs a command line with {@code input} as its standard input. */
    static synchronized Run runWithInput(String input, String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        InputStream oldIn = System.in;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = PagodaCli.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(oldIn);
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static String model(String rel) {
        return TestData.path(rel).toString();
    }

    /** bench serve against a server with no /tokenize and no max_model_len: the served model's local tokenizer counts. */
    @Test
    void benchServeDrivesAnyOpenAiServer() {
        try (FakeOpenAiServer fake = new FakeOpenAiServer("stories260K")) {
            Run r = run("bench", "serve", "--base-url", fake.baseUrl(), "--endpoint", "/v1/completions", "--backend", "openai",
                    "--workload", "random", "--input-len", "8", "--output-len", "4", "--num-prompts", "3", "--no-progress");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).contains("Successful requests:").contains("Total input tokens:").containsPattern("Total input tokens:\\s+24\\b");
            assertThat(fake.received).hasSize(4).allSatisfy(b -> assertThat(b.get("prompt")).hasSize(8));
        }
        // A served id that names nothing here (a GGUF's own name): the root the server loaded it from gives the tokenizer.
        try (FakeOpenAiServer fake = new FakeOpenAiServer("llama", model("models/stories260K/stories260K.bin"))) {
            Run r = run("bench", "serve", "--base-url", fake.baseUrl(), "--workload", "random", "--input-len", "8", "--output-len", "4",
                    "--num-prompts", "1", "--no-progress");
            assertThat(r.code()).as(r.err()).isZero();
        }
        try (FakeOpenAiServer fake = new FakeOpenAiServer("org/not-here")) {
            Run r = run("bench", "serve", "--base-url", fake.baseUrl(), "--num-prompts", "1");
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).startsWith("pagoda: ").contains("--tokenizer MODEL");
        }
    }

    @Test
    void generatesTheReferenceStoryGreedily() {
        Run r = run("generate", "--model", model("models/stories260K"), "--max-tokens", "60", "Once upon a time");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith(STORY_60);
        assertThat(r.err()).contains("prompt tokens: 5").contains("generated tokens: 60").contains("decode:");
        assertThat(r.err()).as("warm-up told apart").contains("first token after").contains("include warm-up");
    }

    @Test
    void jsonOutputHasOneLinePerPromptInOrder() throws Exception {
        Run r = run("generate", "--model", model("models/stories260K/stories260K.gguf"), "--max-tokens", "8", "--output", "json",
                "--logprobs", "3", "--", "Once upon a time", "", "-dash");
        assertThat(r.code()).as(r.err()).isZero();
        String[] lines = r.out().strip().split("\n");
        assertThat(lines).hasSize(3);
        JsonNode first = new ObjectMapper().readTree(lines[0]);
        assertThat(first.get("prompt_token_ids").toString()).isEqualTo("[1,403,407,261,378]");
        assertThat(first.get("token_ids")).hasSize(8);
        assertThat(first.get("finish_reason").asText()).isEqualTo("length");
        assertThat(first.get("text").asText()).startsWith(", there was a little girl");
        JsonNode lp = first.get("logprobs");
        assertThat(lp).hasSize(8);
        assertThat(lp.get(0).get("top")).hasSize(3);
        assertThat(lp.get(0).get("top").get(0).get("id").asInt()).isEqualTo(lp.get(0).get("id").asInt());
        assertThat(new ObjectMapper().readTree(lines[1]).get("prompt_token_ids").toString()).isEqualTo("[1]");
    }

    @Test
    void infoDescribesTheModel() {
        Run r = run("info", "--model", model("models/stories260K/stories260K.gguf"));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("architecture:   llama").contains("layers:         5").contains("context length: 2048")
                .contains("F32").contains("vocabulary:     512");
        // 2 (K and V) x 5 layers x 4 KV heads x head size 8 x 4 bytes
        assertThat(r.out()).contains("chat template:  none").contains("KV per token:   1.25 KiB in f32, 640 B in f16/bf16");
    }

    @Test
    void infoNamesTheArchitectureAndItsFeatures() {
        Run gemma = run("info", "--model", model("models/synthetic/gemma2/gemma2-f32.gguf"));
        assertThat(gemma.code()).as(gemma.err()).isZero();
        assertThat(gemma.out()).contains("architecture:   gemma2").contains("sliding window 16 on 13 of 26 layers")
                .contains("attention soft-cap 50.0").contains("final logit soft-cap 30.0").contains("embeddings x8.0")
                .contains("gelu_tanh feed-forward");
        Run llama3 = run("info", "--model", model("models/synthetic/llama3/hf"));
        assertThat(llama3.out()).contains("architecture:   llama").contains("scaling llama3 x8.0 (original context 128)");
        Run phi3 = run("info", "--model", model("models/synthetic/phi3/phi3-f32.gguf"));
        assertThat(phi3.out()).contains("architecture:   phi3").contains("sliding window 32 on every layer");
    }

    @Test
    void badInputGivesOneLineAndExitCode2() throws Exception {
        Path dir = TestData.scratch("cli");
        Path truncated = dir.resolve("truncated.gguf");
        byte[] all = Files.readAllBytes(TestData.path("models/stories260K/stories260K.gguf"));
        Files.write(truncated, java.util.Arrays.copyOf(all, all.length / 2));
        Path badBin = dir.resolve("bad.bin");
        Files.write(badBin, new byte[] {1, 2, 3});

        for (String[] args : new String[][] {
                {"generate", "--model", "no-such-model", "hi"},
                {"generate", "--model", truncated.toString(), "hi"},
                {"generate", "--model", badBin.toString(), "hi"},
                {"generate", "--model", model("models/stories260K"), "--temperature", "-1", "hi"},
                {"generate", "--model", model("models/stories260K"), "--max-tokens", "0", "hi"},
                {"generate", "--model", model("models/stories260K"), "--top-p", "1.5", "hi"},
                {"generate", "--model", model("models/stories260K"), "--output", "xml", "hi"},
                {"generate", "--model", model("models/stories260K"), "--max-tokens", "abc", "hi"},
                {"generate", "--model", model("models/stories260K"), "x".repeat(3000)},
                {"info", "--model", truncated.toString()},
                {"synth", "--arch", "mamba", "--out", dir.resolve("x.gguf").toString()},
                {"synth", "--arch", "llama", "--shape", "gemma2-2b", "--out", dir.resolve("x.gguf").toString()},
                {"generate", "--model", "synth:gemma2-2b:q8_0", "hi"},
        }) {
            Run r = run(args);
            assertThat(r.code()).as(String.join(" ", args) + " -> " + r.err()).isEqualTo(2);
            assertThat(r.err()).startsWith("pagoda: ").doesNotContain("Exception").doesNotContain("\tat ");
        }
        Run r = run("generate", "--model", truncated.toString(), "hi");
        assertThat(r.err()).contains(truncated.toString());
    }
}
