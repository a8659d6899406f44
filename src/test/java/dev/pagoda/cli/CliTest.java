package dev.pagoda.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.TestData;
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
        }) {
            Run r = run(args);
            assertThat(r.code()).as(String.join(" ", args) + " -> " + r.err()).isEqualTo(2);
            assertThat(r.err()).startsWith("pagoda: ").doesNotContain("Exception").doesNotContain("\tat ");
        }
        Run r = run("generate", "--model", truncated.toString(), "hi");
        assertThat(r.err()).contains(truncated.toString());
    }
}
