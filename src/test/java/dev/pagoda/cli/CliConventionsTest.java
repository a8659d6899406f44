package dev.pagoda.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagoda.TestData;
import dev.pagoda.engine.EngineConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** vLLM's command-line conventions: engine options with one set of defaults, sizes, positional model, typos, version. */
class CliConventionsTest {

    private static <T> T parsed(Class<T> command, String... args) {
        CommandLine.ParseResult r = PagodaCli.commandLine().parseArgs(args);
        while (r.hasSubcommand()) {
            r = r.subcommand();
        }
        return command.cast(r.commandSpec().userObject());
    }

    @Test
    void engineOptionDefaultsAreTheEngineConfigDefaults() {
        assertThat(parsed(GenerateCommand.class, "generate", "hi").engine.toConfig()).isEqualTo(EngineConfig.defaults());
        assertThat(parsed(ServeCommand.class, "serve").engine.toConfig()).isEqualTo(EngineConfig.defaults());
        assertThat(parsed(BenchThroughputCommand.class, "bench", "throughput").engine.toConfig()).isEqualTo(EngineConfig.defaults());
        CliTest.Run help = CliTest.run("serve", "--help");
        EngineConfig d = EngineConfig.defaults();
        assertThat(help.out()).contains("(default: " + d.maxNumSeqs() + ")").contains("(default: " + d.maxNumBatchedTokens() + ")")
                .contains("(default: 1GiB)").contains("(default: recompute)").contains("(default: f32)");
    }

    @Test
    void serveLeavesACoreToItsHttpThreadsUnlessTold() {
        assertThat(ServeCommand.computeThreads(null, 2)).isEqualTo(1);
        assertThat(ServeCommand.computeThreads(null, 1)).isEqualTo(1);
        assertThat(ServeCommand.computeThreads(null, 16)).isEqualTo(15);
        assertThat(ServeCommand.computeThreads(2, 2)).isEqualTo(2);
        assertThat(parsed(ServeCommand.class, "serve", "--compute-threads", "3").computeThreads).isEqualTo(3);
        assertThatThrownBy(() -> ServeCommand.computeThreads(0, 2)).hasMessageContaining("--compute-threads must be at least 1");
    }

    @Test
    void sizesAreReadAsUsersWriteThemAndBareSwapSpaceIsGib() {
        for (String four : new String[] {"4GiB", "4G", "4g", "4"}) {
            assertThat(parsed(ServeCommand.class, "serve", "--swap-space", four).engine.toConfig().swapSpace()).as(four).isEqualTo(4L << 30);
        }
        assertThat(parsed(ServeCommand.class, "serve", "--kv-cache-memory", "512MB").engine.toConfig().kvCacheMemory()).isEqualTo(512_000_000L);
        assertThat(parsed(ServeCommand.class, "serve", "--kv-cache-memory", "512MiB").engine.toConfig().kvCacheMemory()).isEqualTo(512L << 20);
        CliTest.Run bad = CliTest.run("generate", "--swap-space", "2 parsecs", "hi");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).startsWith("pagoda: --swap-space: invalid byte size '2 parsecs'");
    }

    @Test
    void theModelIsPositionalWhereVllmHasItAndMayNotBeGivenTwice() {
        String gguf = TestData.path("models/stories260K/stories260K.gguf").toString();
        assertThat(parsed(ServeCommand.class, "serve", gguf).model.spec()).isEqualTo(gguf);
        assertThat(parsed(ServeCommand.class, "serve", "-m", gguf).model.spec()).isEqualTo(gguf);
        assertThat(parsed(ServeCommand.class, "serve").model.spec()).isEqualTo("stories260K");
        CliTest.Run info = CliTest.run("info", gguf);
        assertThat(info.code()).as(info.err()).isZero();
        assertThat(info.out()).contains("layers:         5");
        CliTest.Run twice = CliTest.run("info", gguf, "--model", "other.gguf");
        assertThat(twice.code()).isEqualTo(2);
        assertThat(twice.err()).startsWith("pagoda: the model is given twice");
    }

    @Test
    void benchesCountRequestsWithNumPrompts() {
        assertThat(parsed(BenchThroughputCommand.class, "bench", "throughput", "--num-prompts", "7").numPrompts).isEqualTo(7);
        assertThat(parsed(BenchMemoryCommand.class, "bench", "memory", "--num-prompts", "7", "--kv-cache-dtype", "bf16").numPrompts)
                .isEqualTo(7);
        assertThat(parsed(BenchServeCommand.class, "bench", "serve", "--num-prompts", "7").numPrompts).isEqualTo(7);
    }

    @Test
    void typosAreAnsweredWithTheNearestName() {
        CliTest.Run command = CliTest.run("genrate", "hi");
        assertThat(command.code()).isEqualTo(2);
        assertThat(command.err()).contains("did you mean 'generate'?");
        CliTest.Run option = CliTest.run("generate", "--max-token", "5", "hi");
        assertThat(option.code()).isEqualTo(2);
        assertThat(option.err()).contains("did you mean '--max-tokens'?").contains("(see: pagoda generate --help)");
        assertThat(CliTest.run("serve", "--prot", "8001").err()).contains("did you mean '--port'?");
        assertThat(CliTest.run("serve", "--xyzzy-plugh").err()).doesNotContain("did you mean");
    }

    @Test
    void versionNamesPagodaAndTheJavaRuntime() {
        CliTest.Run v = CliTest.run("version");
        assertThat(v.code()).isZero();
        assertThat(v.out()).startsWith("pagoda ").contains("Java " + Runtime.version().feature());
        assertThat(CliTest.run("--version").out()).isEqualTo(v.out());
    }
}
