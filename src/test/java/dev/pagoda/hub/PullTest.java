package dev.pagoda.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagoda.PagodaException;
import dev.pagoda.TestData;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code pagoda pull} against a local fake hub: downloads, resumes, verifies, caches, and refuses clearly. */
class PullTest {
    static final List<String> TINY_MODEL_FILES = List.of("added_tokens.json", "config.json", "generation_config.json", "model.safetensors",
            "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json");
    static FakeHub hub;
    Path cache;

    @BeforeAll
    static void startHub() throws IOException {
        hub = new FakeHub();
    }

    @AfterAll
    static void stopHub() {
        hub.close();
    }

    @BeforeEach
    void freshCache() throws IOException {
        cache = Files.createTempDirectory(TestData.scratch("hub"), "cache");
        hub.requests.clear();
        hub.cutOnce.clear();
        hub.corrupt.clear();
        hub.ignoreRange.clear();
    }

    private Pull.Result pull(HubConfig config, String spec) {
        return Pull.run(config, RepoSpec.parse(spec), "main", 4, Pull.Progress.NONE);
    }

    private Path repoDir(String repo) {
        return new HubCache(cache).repoDir(repo);
    }

    @Test
    void freshPullFillsTheHubCacheLayoutAndASecondPullDownloadsNothing() throws IOException {
        HubConfig config = hub.config(cache, "HF_TOKEN", FakeHub.TOKEN);
        Pull.Result r = pull(config, FakeHub.TINY);
        String sha = hub.repos.get(FakeHub.TINY).sha();
        Path snapshot = repoDir(FakeHub.TINY).resolve("snapshots").resolve(sha);
        assertThat(r.path()).isEqualTo(snapshot);
        assertThat(r.commit()).isEqualTo(sha);
        assertThat(r.downloaded()).isEqualTo(7);
        assertThat(r.bytes()).isEqualTo(TINY_MODEL_FILES.stream().mapToLong(f -> hub.content(FakeHub.TINY, f).length).sum());
        // Only the model's files: not the README, other weight formats or subfolders.
        try (Stream<Path> files = Files.walk(snapshot)) {
            assertThat(files.filter(p -> !p.equals(snapshot)).map(p -> snapshot.relativize(p).toString()).sorted().toList())
                    .isEqualTo(TINY_MODEL_FILES);
        }
        for (String f : TINY_MODEL_FILES) {
            Path link = snapshot.resolve(f);
            String etag = FakeHub.etag(f, hub.content(FakeHub.TINY, f));
            assertThat(Files.isSymbolicLink(link)).isTrue();
            assertThat(link.getParent().resolve(Files.readSymbolicLink(link)).normalize()).isEqualTo(repoDir(FakeHub.TINY).resolve("blobs").resolve(etag));
            assertThat(Files.readAllBytes(link)).isEqualTo(hub.content(FakeHub.TINY, f));
        }
        assertThat(Files.readString(repoDir(FakeHub.TINY).resolve("refs/main"))).isEqualTo(sha);
        // The safetensors blob is named by the sha256 its README lists.
        assertThat(repoDir(FakeHub.TINY).resolve("blobs/187d0d5e8360d9625e40e0b35ec57d1ef0eea1a60ddcf09412246bed3484852f")).exists();
        // The token goes to the hub, never to the storage host large files are redirected to.
        assertThat(hub.requestsTo("/api/")).allMatch(q -> ("Bearer " + FakeHub.TOKEN).equals(q.authorization()));
        assertThat(hub.requestsTo("/storage/")).isNotEmpty().allMatch(q -> q.authorization() == null && q.host().startsWith("localhost"));

        hub.requests.clear();
        Pull.Result again = pull(config, FakeHub.TINY);
        assertThat(again.downloaded()).isZero();
        assertThat(again.path()).isEqualTo(snapshot);
        assertThat(hub.requests).extracting(FakeHub.Request::path).containsExactly("/api/models/" + FakeHub.TINY + "/revision/main");
    }

    @Test
    void aCutConnectionIsResumedWithARange() throws IOException {
        hub.cutOnce.add("model.safetensors");
        Pull.Result r = pull(hub.config(cache), FakeHub.TINY);
        byte[] weights = hub.content(FakeHub.TINY, "model.safetensors");
        assertThat(Files.readAllBytes(r.path().resolve("model.safetensors"))).isEqualTo(weights);
        List<FakeHub.Request> gets = hub.requestsTo("/storage/").stream().filter(q -> q.method().equals("GET")).toList();
        assertThat(gets).hasSize(2);
        assertThat(gets.get(0).range()).isNull();
        // It resumes where the bytes that arrived end: at most half-way, where the server cut.
        assertThat(gets.get(1).range()).matches("bytes=\\d+-");
        assertThat(Long.parseLong(gets.get(1).range().replaceAll("\\D", ""))).isPositive().isLessThanOrEqualTo(weights.length / 2);
        assertThat(hub.cutOnce).isEmpty();
    }

    @Test
    void aPartialDownloadLeftByAnEarlierPullIsResumed() throws IOException {
        byte[] weights = hub.content(FakeHub.TINY, "model.safetensors");
        Path partial = new HubCache(cache).incomplete(FakeHub.TINY, FakeHub.etag("model.safetensors", weights));
        Files.createDirectories(partial.getParent());
        Files.write(partial, Arrays.copyOf(weights, 100_000));
        Pull.Result r = pull(hub.config(cache), FakeHub.TINY);
        assertThat(Files.readAllBytes(r.path().resolve("model.safetensors"))).isEqualTo(weights);
        assertThat(hub.requestsTo("/storage/")).filteredOn(q -> q.method().equals("GET")).extracting(FakeHub.Request::range)
                .containsExactly("bytes=100000-");
        assertThat(partial).doesNotExist();
    }

    @Test
    void aServerIgnoringTheRangeRestartsTheFileInsteadOfAppending() throws IOException {
        byte[] weights = hub.content(FakeHub.TINY, "model.safetensors");
        Path partial = new HubCache(cache).incomplete(FakeHub.TINY, FakeHub.etag("model.safetensors", weights));
        Files.createDirectories(partial.getParent());
        Files.write(partial, Arrays.copyOf(weights, 100_000));
        hub.ignoreRange.add("model.safetensors");
        Pull.Result r = pull(hub.config(cache), FakeHub.TINY);
        assertThat(Files.readAllBytes(r.path().resolve("model.safetensors"))).isEqualTo(weights);
    }

    @Test
    void aCorruptDownloadIsDetectedRemovedAndNotLinked() throws IOException {
        for (String file : List.of("model.safetensors", "config.json")) {  // sha256 (LFS) and git blob id
            freshCache();
            hub.corrupt.add(file);
            HubConfig config = hub.config(cache);
            assertThatThrownBy(() -> pull(config, FakeHub.TINY)).isInstanceOf(PagodaException.class)
                    .hasMessageContaining(file + ": the downloaded content is corrupt")
                    .hasMessageContaining(file.equals("config.json") ? "git blob id" : "sha256");
            String etag = FakeHub.etag(file, hub.content(FakeHub.TINY, file));
            assertThat(new HubCache(cache).blob(FakeHub.TINY, etag)).doesNotExist();
            assertThat(new HubCache(cache).incomplete(FakeHub.TINY, etag)).doesNotExist();
            assertThat(repoDir(FakeHub.TINY).resolve("snapshots").resolve(hub.repos.get(FakeHub.TINY).sha()).resolve(file)).doesNotExist();
            hub.corrupt.clear();
            Pull.Result r = pull(config, FakeHub.TINY);
            for (String f : TINY_MODEL_FILES) {
                assertThat(Files.readAllBytes(r.path().resolve(f))).isEqualTo(hub.content(FakeHub.TINY, f));
            }
        }
    }

    @Test
    void offlineModeUsesTheCacheAndNeverTheNetwork() {
        assertThatThrownBy(() -> pull(hub.config(cache, "HF_HUB_OFFLINE", "1"), FakeHub.TINY))
                .hasMessageContaining("is not in the cache").hasMessageContaining("HF_HUB_OFFLINE");
        Pull.Result online = pull(hub.config(cache), FakeHub.TINY);
        hub.requests.clear();
        Pull.Result offline = pull(hub.config(cache, "HF_HUB_OFFLINE", "1"), FakeHub.TINY);
        assertThat(offline.path()).isEqualTo(online.path());
        assertThat(offline.commit()).isEqualTo(online.commit());
        assertThat(hub.requests).isEmpty();
    }

    @Test
    void aGatedRepoNeedsTheRightToken() {
        assertThatThrownBy(() -> pull(hub.config(cache), FakeHub.GATED)).isInstanceOf(PagodaException.class)
                .hasMessage(FakeHub.GATED + " is gated: request access at " + hub.endpoint() + "/" + FakeHub.GATED
                        + ", then set HF_TOKEN to a token of that account");
        assertThatThrownBy(() -> pull(hub.config(cache, "HF_TOKEN", "hf_wrong"), FakeHub.GATED))
                .hasMessageStartingWith("HF_TOKEN was refused by " + hub.endpoint() + " (401: Invalid credentials");
        Pull.Result r = pull(hub.config(cache, "HF_TOKEN", FakeHub.TOKEN), FakeHub.GATED);
        assertThat(r.downloaded()).isEqualTo(7);
        assertThat(hub.requestsTo("/storage/")).isNotEmpty().allMatch(q -> q.authorization() == null);
    }

    @Test
    void unknownReposFilesAndRevisionsAreOneClearLine() {
        HubConfig config = hub.config(cache);
        assertThatThrownBy(() -> pull(config, "pagoda-test/no-such-model"))
                .hasMessage("pagoda-test/no-such-model: no such model repository on " + hub.endpoint() + " (or it is private: set HF_TOKEN)");
        assertThatThrownBy(() -> pull(config, FakeHub.GGUF + ":Q2_K"))
                .hasMessageStartingWith(FakeHub.GGUF + " has no file named 'Q2_K' and no GGUF file whose name contains it: stories260K-F32.gguf");
        assertThatThrownBy(() -> Pull.run(config, RepoSpec.parse(FakeHub.TINY), "v9", 4, Pull.Progress.NONE))
                .hasMessage(FakeHub.TINY + ": no revision 'v9'");
        assertThatThrownBy(() -> RepoSpec.parse("just-a-name")).hasMessageContaining("not a Hugging Face model id");
        assertThat(new HubCache(cache).root().resolve("models--pagoda-test--no-such-model")).doesNotExist();
    }

    @Test
    void noNetworkIsOneClearLine() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        HubConfig config = HubConfig.fromEnv(Map.of("HF_ENDPOINT", "http://127.0.0.1:" + closedPort, "HF_HUB_CACHE", cache.toString()));
        assertThatThrownBy(() -> pull(config, FakeHub.TINY)).isInstanceOf(PagodaException.class)
                .hasMessageStartingWith("cannot reach http://127.0.0.1:" + closedPort).hasMessageContaining("HF_HUB_OFFLINE=1");
    }

    @Test
    void aGgufQuantIsPickedByNameAndAmbiguityIsRefused() throws IOException {
        HubConfig config = hub.config(cache);
        Pull.Result r = pull(config, FakeHub.GGUF + ":q4_k_m");
        Path file = repoDir(FakeHub.GGUF).resolve("snapshots").resolve(r.commit()).resolve("stories260K-Q4_K_M.gguf");
        assertThat(r.path()).isEqualTo(file);
        assertThat(r.downloaded()).isEqualTo(1);
        assertThat(Files.readAllBytes(file)).isEqualTo(hub.content(FakeHub.GGUF, "stories260K-Q4_K_M.gguf"));
        assertThat(hub.requestsTo("/storage/")).hasSize(1);
        assertThatThrownBy(() -> pull(config, FakeHub.GGUF + ":Q4_K")).hasMessage("'Q4_K' matches 2 files of " + FakeHub.GGUF
                + ", name one exactly as " + FakeHub.GGUF + ":FILE: stories260K-Q4_K_M.gguf, stories260K-Q4_K_S.gguf");
        assertThatThrownBy(() -> pull(config, FakeHub.GGUF)).hasMessageStartingWith(FakeHub.GGUF + " has 4 GGUF files: pick one with "
                + FakeHub.GGUF + ":QUANT");
        // The cache answers the same names without the network.
        HubCache hubCache = new HubCache(cache);
        assertThat(hubCache.find(RepoSpec.parse(FakeHub.GGUF + ":Q4_K_M"), "main")).contains(file);
        assertThat(hubCache.find(RepoSpec.parse(FakeHub.GGUF + ":stories260K-Q4_K_M.gguf"), r.commit())).contains(file);
        assertThat(hubCache.find(RepoSpec.parse(FakeHub.GGUF + ":F32"), "main")).isEmpty();
        // F32 as a whole word is stories260K-F32.gguf, though stories260K-F32_ALT.gguf contains it too.
        assertThat(pull(config, FakeHub.GGUF + ":f32").path().getFileName().toString()).isEqualTo("stories260K-F32.gguf");
        assertThatThrownBy(() -> pull(config, FakeHub.GGUF + ":32")).hasMessageStartingWith("'32' matches 2 files of " + FakeHub.GGUF);
    }
}
