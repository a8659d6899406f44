package dev.pagoda.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.TestData;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The hub settings come from the variables huggingface_hub reads, with its defaults. */
class HubConfigTest {
    @Test
    void defaultsAreTheHubsOwn() {
        HubConfig c = HubConfig.fromEnv(Map.of("HF_TOKEN_PATH", "/nonexistent/token"));
        assertThat(c.endpoint()).isEqualTo(URI.create("https://huggingface.co"));
        assertThat(c.cache()).isEqualTo(Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub"));
        assertThat(c.token()).isNull();
        assertThat(c.offline()).isFalse();
        assertThat(HubConfig.fromEnv(Map.of("XDG_CACHE_HOME", "/x")).cache()).isEqualTo(Path.of("/x/huggingface/hub"));
    }

    @Test
    void variablesOverrideInTheHubsOrder() throws IOException {
        Path home = Files.createTempDirectory(TestData.scratch("hub"), "home");
        Files.writeString(home.resolve("token"), "hf_from_login\n");
        HubConfig c = HubConfig.fromEnv(Map.of("HF_HOME", home.toString(), "HF_ENDPOINT", "http://mirror.local:8080/", "HF_HUB_OFFLINE", "True"));
        assertThat(c.cache()).isEqualTo(home.resolve("hub"));
        assertThat(c.token()).isEqualTo("hf_from_login");  // what huggingface-cli login saved
        assertThat(c.endpoint()).isEqualTo(URI.create("http://mirror.local:8080"));
        assertThat(c.offline()).isTrue();
        HubConfig d = HubConfig.fromEnv(Map.of("HF_HOME", home.toString(), "HF_HUB_CACHE", "/elsewhere", "HF_TOKEN", "hf_env", "HF_HUB_OFFLINE", "0"));
        assertThat(d.cache()).isEqualTo(Path.of("/elsewhere"));
        assertThat(d.token()).isEqualTo("hf_env");
        assertThat(d.offline()).isFalse();
    }

    @Test
    void repoSpecsParseAndLocalNamesAreNotTakenForRepos() {
        assertThat(RepoSpec.parse("bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"))
                .isEqualTo(new RepoSpec("bartowski/Llama-3.2-1B-Instruct-GGUF", "Q4_K_M"));
        assertThat(RepoSpec.parse("Qwen/Qwen2.5-0.5B-Instruct")).isEqualTo(new RepoSpec("Qwen/Qwen2.5-0.5B-Instruct", null));
        for (String notARepo : new String[] {"stories260K", "synth:tiny:f32", "/abs/path", "a/b/c", "../x", "models/x.gguf:", "org/--x"}) {
            assertThat(RepoSpec.parseOrNull(notARepo)).as(notARepo).isNull();
        }
    }
}
