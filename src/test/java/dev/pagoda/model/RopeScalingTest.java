package dev.pagoda.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.pagoda.PagodaException;
import dev.pagoda.TestData;
import dev.pagoda.format.gguf.GgufWriter;
import dev.pagoda.kernel.RopeStyle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rope scaling as the checkpoints state it, and the refusal of what Pagoda does not compute. */
class RopeScalingTest {
    @TempDir
    Path dir;

    /** The HF config's llama3 rule gives the divisors llama.cpp's converter stored in the GGUF (all three branches). */
    @Test
    void llama3RuleReproducesTheConvertersRopeFreqs() {
        try (Model hf = ModelLoader.open(TestData.path("models/synthetic/llama3/hf"));
             Model gguf = ModelLoader.open(TestData.path("models/synthetic/llama3/llama3-f32.gguf"))) {
            float[] fromRule = hf.config().rope().freqDivisors();
            float[] stored = gguf.config().rope().freqDivisors();
            assertThat(stored).hasSize(16);
            assertThat(stored[2]).isCloseTo(1.0146304f, within(1e-6f));
            assertThat(stored[3]).isCloseTo(2.93475f, within(1e-5f));
            for (int i = 0; i < stored.length; i++) {
                assertThat(fromRule[i]).as("pair %d", i).isCloseTo(stored[i], within(1e-5f * stored[i]));
            }
            assertThat(hf.config().rope().scaling()).startsWith("llama3 x8.0");
        }
    }

    @Test
    void linearDividesEveryFrequencyAndYarnKeepsTheFastPairs() {
        assertThat(Rope.linear(10000f, RopeStyle.HALF, 8, 4f).freqDivisors()).containsOnly(4f);
        Rope yarn = Rope.yarn(10000f, RopeStyle.HALF, 64, 4f, 256, 32, 1, 1.2f, true);
        float[] d = yarn.freqDivisors();
        assertThat(d[0]).isEqualTo(1f);
        assertThat(d[d.length - 1]).isCloseTo(4f, within(1e-6f));
        for (int i = 1; i < d.length; i++) {
            assertThat(d[i]).as("pair %d", i).isGreaterThanOrEqualTo(d[i - 1]);
        }
        assertThat(yarn.magnitude()).isEqualTo(1.2f);
        assertThat(Rope.yarn(10000f, RopeStyle.HALF, 64, 1f, 256, 32, 1, 1f, true).freqDivisors()).containsOnly(1f);
        assertThat(Rope.yarnMscale(4, 1)).isCloseTo(1 + 0.1 * Math.log(4), within(1e-12));
    }

    /** A config.json with a field or two changed from the llama3 fixture's. */
    private Path hfConfig(String modelType, String ropeScaling) throws IOException {
        String cfg = Files.readString(TestData.path("models/synthetic/llama3/hf/config.json"))
                .replace("\"model_type\": \"llama\"", "\"model_type\": \"" + modelType + "\"");
        cfg = cfg.substring(0, cfg.indexOf("\"rope_scaling\"")) + "\"rope_scaling\": " + ropeScaling + "\n}";
        Path folder = Files.createDirectories(dir.resolve(modelType));
        Files.writeString(folder.resolve("config.json"), cfg);
        return folder;
    }

    @Test
    void unknownRopeScalingIsRefusedByName() throws IOException {
        Path folder = hfConfig("llama", "{\"rope_type\": \"mrope\", \"factor\": 2.0}");
        assertThatThrownBy(() -> ModelLoader.open(folder)).isInstanceOf(PagodaException.class)
                .hasMessageContaining("rope scaling type 'mrope' is not supported")
                .hasMessageContaining("llama3, linear, dynamic, yarn").hasMessageNotContaining("\n");
        Path phi = hfConfig("phi3", "{\"type\": \"longrope\", \"short_factor\": [1.0]}");
        assertThatThrownBy(() -> ModelLoader.open(phi)).isInstanceOf(PagodaException.class).hasMessageContaining("longrope");
    }

    @Test
    void unknownArchitectureIsRefusedListingTheSupportedOnes() throws IOException {
        Path folder = hfConfig("mamba", "null");
        assertThatThrownBy(() -> ModelLoader.open(folder)).isInstanceOf(PagodaException.class)
                .hasMessageContaining("unknown architecture model_type 'mamba'")
                .hasMessageContaining("llama, mistral, qwen2, qwen3, gemma2, gemma3_text, phi3").hasMessageNotContaining("\n");
        Path gguf = dir.resolve("bert.gguf");
        new GgufWriter().put("general.architecture", "bert").write(gguf);
        assertThatThrownBy(() -> ModelLoader.open(gguf)).isInstanceOf(PagodaException.class)
                .hasMessageContaining("unknown architecture 'bert'")
                .hasMessageContaining("llama, qwen2, qwen3, gemma2, gemma3, phi3").hasMessageNotContaining("\n");
    }
}
