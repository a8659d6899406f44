package dev.pagoda.format.safetensors;

import dev.pagoda.PagodaException;
import dev.pagoda.TestData;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.pagoda.format.safetensors.SafetensorsTestFiles.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsModelTest {
    private static final String INDEX = """
            {"metadata": {"total_size": 88},
             "weight_map": {"embed.weight": "model-00001-of-00002.safetensors",
                            "norm.weight": "model-00001-of-00002.safetensors",
                            "proj.weight": "model-00002-of-00002.safetensors",
                            "head.weight": "model-00002-of-00002.safetensors"}}
            """;

    private static Path shardedFolder(String name, String index) throws IOException {
        Path dir = TestData.scratch("safetensors-sharded").resolve(name);
        Files.createDirectories(dir);
        new SafetensorsTestFiles().meta("format", "pt")
                .add("embed.weight", "F16", new long[]{4, 3}, pattern(24, 1))
                .add("norm.weight", "BF16", new long[]{3}, pattern(6, 2))
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsTestFiles()
                .add("proj.weight", "BF16", new long[]{2, 8}, pattern(32, 3))
                .add("head.weight", "F16", new long[]{4, 3}, pattern(24, 4))
                .write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(dir.resolve(SafetensorsModel.INDEX_FILE), index);
        return dir;
    }

    @Test
    void resolvesEveryTensorOfAShardedFolder() throws IOException {
        try (SafetensorsModel m = SafetensorsModel.open(shardedFolder("ok", INDEX))) {
            assertThat(m.names()).containsExactly("embed.weight", "norm.weight", "proj.weight", "head.weight");
            assertThat(m.files()).hasSize(2);
            assertThat(m.metadata()).containsEntry("format", "pt");
            check(m.tensor("embed.weight"), TensorType.F16, 4, 3, pattern(24, 1));
            check(m.tensor("norm.weight"), TensorType.BF16, 1, 3, pattern(6, 2));
            check(m.tensor("proj.weight"), TensorType.BF16, 2, 8, pattern(32, 3));
            check(m.tensor("head.weight"), TensorType.F16, 4, 3, pattern(24, 4));
            assertThat(m.has("proj.weight")).isTrue();
            assertThat(m.has("nope")).isFalse();
            assertThat(m.tensorInfo("proj.weight").shape()).containsExactly(2, 8);
            assertThatThrownBy(() -> m.tensor("nope")).isInstanceOf(PagodaException.class).hasMessageContaining("nope");
        }
    }

    private static void check(WeightMatrix w, TensorType type, int rows, int cols, byte[] data) {
        assertThat(w.type()).as(w.name()).isEqualTo(type);
        assertThat(w.rows()).as(w.name()).isEqualTo(rows);
        assertThat(w.cols()).as(w.name()).isEqualTo(cols);
        assertThat(w.data().toArray(ValueLayout.JAVA_BYTE)).as(w.name()).containsExactly(data);
    }

    @Test
    void singleFileFolderAndFile() {
        Path folder = TestData.path("models/TinyStories-656K");
        try (SafetensorsModel m = SafetensorsModel.open(folder)) {
            assertThat(m.names()).hasSize(20).contains("lm_head.weight");
            assertThat(m.metadata()).containsEntry("model.embed_tokens.weight", "lm_head.weight");
            assertThat(m.tensor("lm_head.weight").rows()).isEqualTo(2048);
        }
        try (SafetensorsModel m = SafetensorsModel.open(folder.resolve(SafetensorsModel.SINGLE_FILE))) {
            assertThat(m.names()).hasSize(20);
        }
    }

    @Test
    void badIndexesAndFoldersAreRejected() throws IOException {
        assertThatThrownBy(() -> SafetensorsModel.open(shardedFolder("missing-tensor",
                INDEX.replace("\"head.weight\"", "\"tail.weight\""))))
                .isInstanceOf(PagodaException.class).hasMessageContaining("tail.weight").hasMessageContaining(SafetensorsModel.INDEX_FILE);
        assertThatThrownBy(() -> SafetensorsModel.open(shardedFolder("missing-shard",
                INDEX.replace("model-00002-of-00002", "model-00003-of-00002"))))
                .isInstanceOf(PagodaException.class).hasMessageContaining("model-00003-of-00002");
        assertThatThrownBy(() -> SafetensorsModel.open(shardedFolder("escaping",
                INDEX.replace("\"model-00002-of-00002", "\"../model-00002-of-00002"))))
                .isInstanceOf(PagodaException.class).hasMessageContaining("must name a file in the folder");
        assertThatThrownBy(() -> SafetensorsModel.open(shardedFolder("no-map", "{\"metadata\": {}}")))
                .isInstanceOf(PagodaException.class).hasMessageContaining("weight_map");
        assertThatThrownBy(() -> SafetensorsModel.open(shardedFolder("bad-json", "{\"weight_map\": ")))
                .isInstanceOf(PagodaException.class).hasMessageContaining("invalid JSON");
        Path empty = TestData.scratch("safetensors-sharded").resolve("empty");
        Files.createDirectories(empty);
        assertThatThrownBy(() -> SafetensorsModel.open(empty))
                .isInstanceOf(PagodaException.class).hasMessageContaining(SafetensorsModel.SINGLE_FILE);
    }
}
