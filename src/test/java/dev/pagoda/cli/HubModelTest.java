package dev.pagoda.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagoda.TestData;
import dev.pagoda.hub.FakeHub;
import dev.pagoda.hub.HubConfig;
import dev.pagoda.hub.Pull;
import dev.pagoda.hub.RepoSpec;
import dev.pagoda.model.Model;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Models named by their Hugging Face id: pulled from a local fake hub, then opened from the cache as generate and serve do. */
class HubModelTest {
    static FakeHub hub;

    @BeforeAll
    static void startHub() throws IOException {
        hub = new FakeHub();
    }

    @AfterAll
    static void stopHub() {
        hub.close();
    }

    private static ModelOption option(String model, String revision) {
        ModelOption o = new ModelOption();
        o.model = model;
        o.revision = revision;
        return o;
    }

    private static Path newCache() throws IOException {
        return Files.createTempDirectory(TestData.scratch("hub"), "cache");
    }

    @Test
    void aPulledModelOpensByItsRepoIdFromTheCacheAlone() throws IOException {
        Path cache = newCache();
        Pull.Result pulled = Pull.run(hub.config(cache), RepoSpec.parse(FakeHub.TINY), "main", 4, Pull.Progress.NONE);
        HubConfig offline = hub.config(cache, "HF_HUB_OFFLINE", "1");
        hub.requests.clear();
        for (String revision : List.of("main", pulled.commit())) {
            try (Model m = option(FakeHub.TINY, revision).open(offline)) {
                assertThat(m.name()).isEqualTo(FakeHub.TINY);  // what serve offers clients as the model id
                assertThat(m.format()).isEqualTo("huggingface");
                assertThat(m.source()).isEqualTo(pulled.path());
                assertThat(m.config().vocabSize()).isEqualTo(2048);
            }
        }
        assertThat(hub.requests).isEmpty();
        assertThatThrownBy(() -> option(FakeHub.TINY, "v2").open(offline)).hasMessage("model '" + FakeHub.TINY
                + "' not found: not a local file or folder, and not in the Hugging Face cache " + cache
                + " at revision 'v2' (pagoda pull " + FakeHub.TINY + " --revision v2 fetches it)");
        assertThatThrownBy(() -> option(FakeHub.GGUF + ":Q4_K_M", "main").open(offline))
                .hasMessageContaining("(pagoda pull " + FakeHub.GGUF + ":Q4_K_M fetches it)");
    }

    @Test
    void aCacheFilledByHuggingFaceCliIsUsedInPlace() throws Exception {
        // The layout huggingface_hub writes, made by hand: a blob named by its sha256, a relative link, refs/main.
        Path cache = newCache();
        Path repo = cache.resolve("models--someone--stories260K-GGUF");
        byte[] gguf = Files.readAllBytes(TestData.path("models/stories260K/stories260K.gguf"));
        String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(gguf));
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Files.createDirectories(repo.resolve("blobs"));
        Files.write(repo.resolve("blobs").resolve(sha256), gguf);
        Path snapshot = Files.createDirectories(repo.resolve("snapshots").resolve(commit));
        Files.createSymbolicLink(snapshot.resolve("stories260K.gguf"), Path.of("..", "..", "blobs", sha256));
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), commit);
        HubConfig config = HubConfig.fromEnv(Map.of("HF_HOME", cache.getParent().toString(), "HF_HUB_CACHE", cache.toString(), "HF_HUB_OFFLINE", "1"));
        try (Model m = option("someone/stories260K-GGUF", "main").open(config)) {
            assertThat(m.name()).isEqualTo("someone/stories260K-GGUF");
            assertThat(m.format()).isEqualTo("gguf");
            assertThat(m.config().layers()).isEqualTo(5);
        }
    }

    @Test
    void badPullArgumentsAreOneLineAndExitCode2() {
        CliTest.Run r = CliTest.run("pull", "just-a-name");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("pagoda: 'just-a-name' is not a Hugging Face model id: expected ORG/NAME or ORG/NAME:FILE_OR_QUANT\n");
        r = CliTest.run("pull", FakeHub.TINY, "--max-workers", "0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("pagoda: --max-workers must be at least 1, got 0\n");
    }

    record Proc(int code, String out, String err) {
    }

    /** Runs the CLI as a process, with the hub settings in its environment as a user sets them. */
    private static Proc pagoda(Map<String, String> env, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), PagodaCli.class.getName()));
        cmd.addAll(List.of(args));
        Path dir = Files.createTempDirectory(TestData.scratch("hub"), "proc");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("HF_"));
        pb.environment().putAll(env);
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        // The launcher filters the JVM's incubator warning; so does this.
        String err = Files.readString(dir.resolve("err"), StandardCharsets.UTF_8).replaceAll("WARNING: Using incubator modules.*\n", "");
        return new Proc(p.exitValue(), Files.readString(dir.resolve("out"), StandardCharsets.UTF_8), err);
    }

    @Test
    void pullThenGenerateWithTheRepoId() throws Exception {
        Path cache = newCache();
        Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint().toString(), "HF_HUB_CACHE", cache.toString(),
                "HF_TOKEN_PATH", cache.resolve("no-token").toString());
        Proc pull = pagoda(env, "pull", FakeHub.GGUF + ":F32");
        assertThat(pull.code()).as(pull.err()).isZero();
        Path file = cache.resolve("models--pagoda-test--stories260K-GGUF/snapshots/" + hub.sha(FakeHub.GGUF) + "/stories260K-F32.gguf");
        assertThat(pull.out().strip()).isEqualTo(file.toString());
        assertThat(pull.err()).contains("pagoda pull: " + FakeHub.GGUF + ":F32 at " + hub.sha(FakeHub.GGUF).substring(0, 12)
                + ": 1 files, downloaded 1 (1.13 MiB)");

        Map<String, String> offline = new HashMap<>(env);
        offline.put("HF_HUB_OFFLINE", "1");
        Proc gen = pagoda(offline, "generate", "--model", FakeHub.GGUF + ":F32", "--max-tokens", "60", "Once upon a time");
        assertThat(gen.code()).as(gen.err()).isZero();
        assertThat(gen.out()).startsWith(CliTest.STORY_60);

    }
}
