package dev.pagoda.format.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.PagodaException;
import dev.pagoda.TestData;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

class SafetensorsFileTest {
    private static final Path TINY = TestData.path("models/TinyStories-656K/model.safetensors");
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void readsTinyStories656K() throws IOException {
        JsonNode config = new ObjectMapper().readTree(TestData.path("models/TinyStories-656K/config.json").toFile());
        int hidden = config.get("hidden_size").asInt();
        int ffn = config.get("intermediate_size").asInt();
        int vocab = config.get("vocab_size").asInt();
        int kvDim = hidden / config.get("num_attention_heads").asInt() * config.get("num_key_value_heads").asInt();
        try (SafetensorsFile f = SafetensorsFile.open(TINY)) {
            // 21 header entries: 20 tensors (embed_tokens is tied to lm_head, not stored) and __metadata__.
            assertThat(f.names()).hasSize(20).contains("lm_head.weight", "model.norm.weight").doesNotContain("__metadata__");
            assertThat(f.metadata()).containsEntry("model.embed_tokens.weight", "lm_head.weight");
            assertShape(f.tensor("lm_head.weight"), vocab, hidden);
            assertShape(f.tensor("model.norm.weight"), 1, hidden);
            for (int l = 0; l < config.get("num_hidden_layers").asInt(); l++) {
                String p = "model.layers." + l + ".";
                assertShape(f.tensor(p + "self_attn.q_proj.weight"), hidden, hidden);
                assertShape(f.tensor(p + "self_attn.k_proj.weight"), kvDim, hidden);
                assertShape(f.tensor(p + "self_attn.v_proj.weight"), kvDim, hidden);
                assertShape(f.tensor(p + "self_attn.o_proj.weight"), hidden, hidden);
                assertShape(f.tensor(p + "mlp.gate_proj.weight"), ffn, hidden);
                assertShape(f.tensor(p + "mlp.up_proj.weight"), ffn, hidden);
                assertShape(f.tensor(p + "mlp.down_proj.weight"), hidden, ffn);
                assertShape(f.tensor(p + "input_layernorm.weight"), 1, hidden);
                assertShape(f.tensor(p + "post_attention_layernorm.weight"), 1, hidden);
            }
            // The data is the file's bytes at 8 + header length + begin: compare the last tensor's first float.
            byte[] raw = Files.readAllBytes(TINY);
            ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            long dataStart = 8 + bb.getLong(0);
            SafetensorsTensorInfo norm = f.tensorInfo("model.norm.weight");
            assertThat(f.tensor("model.norm.weight").data().getAtIndex(F32, 0)).isEqualTo(bb.getFloat((int) (dataStart + norm.begin())));
            assertThat(dataStart + norm.end()).isEqualTo(raw.length);
        }
    }

    private static void assertShape(WeightMatrix m, int rows, int cols) {
        assertThat(m.type()).as(m.name()).isEqualTo(TensorType.F32);
        assertThat(m.rows()).as(m.name()).isEqualTo(rows);
        assertThat(m.cols()).as(m.name()).isEqualTo(cols);
        assertThat(m.data().byteSize()).as(m.name()).isEqualTo(4L * rows * cols);
    }

    @Test
    void halfPrecisionDtypesMapToTensorTypesAndOthersFailOnAccess() throws IOException {
        Path p = new SafetensorsTestFiles()
                .add("h", "F16", new long[]{2, 3}, SafetensorsTestFiles.pattern(12, 1))
                .add("b", "BF16", new long[]{4}, SafetensorsTestFiles.pattern(8, 2))
                .add("s", "F32", new long[]{}, SafetensorsTestFiles.pattern(4, 3))
                .add("cube", "F32", new long[]{2, 2, 3}, SafetensorsTestFiles.pattern(48, 4))
                .add("ids", "I64", new long[]{3}, SafetensorsTestFiles.pattern(24, 5))
                .write(TestData.scratch("safetensors").resolve("dtypes.safetensors"));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            WeightMatrix h = f.tensor("h");
            assertThat(h.type()).isEqualTo(TensorType.F16);
            assertThat(h.data().toArray(ValueLayout.JAVA_BYTE)).containsExactly(SafetensorsTestFiles.pattern(12, 1));
            assertThat(f.tensor("b").type()).isEqualTo(TensorType.BF16);
            assertThat(f.tensor("b").rows()).isEqualTo(1);
            assertThat(f.tensor("s").cols()).isEqualTo(1);
            assertThat(f.tensor("cube").rows()).isEqualTo(4);
            assertThat(f.tensor("cube").cols()).isEqualTo(3);
            assertThat(f.metadata()).isEmpty();
            Throwable t = catchThrowable(() -> f.tensor("ids"));
            assertThat(t).isInstanceOf(PagodaException.class);
            assertThat(t.getMessage()).contains("I64", "'ids'", p.toString());
            assertThat(catchThrowable(() -> f.tensor("nope"))).isInstanceOf(PagodaException.class).hasMessageContaining("nope");
        }
    }

    @Test
    void corruptFilesAreRejectedNamingTheFile() throws IOException {
        byte[] good = Files.readAllBytes(TINY);
        Path dir = TestData.scratch("safetensors-corrupt");
        long headerLength = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(good, 8, (int) headerLength, StandardCharsets.UTF_8);

        assertRejected(dir, "empty", new byte[0], "truncated");
        assertRejected(dir, "short", Arrays.copyOf(good, 5), "truncated");
        assertRejected(dir, "cut-header", Arrays.copyOf(good, 100), "header length");
        assertRejected(dir, "cut-data", Arrays.copyOf(good, good.length - 1), "truncated", "model.norm.weight");
        byte[] hugeLength = good.clone();
        ByteBuffer.wrap(hugeLength).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -5);
        assertRejected(dir, "huge-length", hugeLength, "header length");
        byte[] badJson = good.clone();
        badJson[8] = '[';
        assertRejected(dir, "bad-json", badJson, "JSON");
        assertRejected(dir, "wrong-size", withHeader(good, header, header.replace("\"shape\":[128],\"data_offsets\":[2623488", "\"shape\":[127],\"data_offsets\":[2623488")), "model.norm.weight");
        assertRejected(dir, "negative-shape", withHeader(good, header, header.replaceFirst("\"shape\":\\[2048,", "\"shape\":[-248,")), "invalid shape");
        assertRejected(dir, "not-object", withHeader(good, header, " ".repeat(header.length() - 2) + "[]"), "not a JSON object");
    }

    /** The same file with a header text of equal byte length (so offsets stay valid). */
    private static byte[] withHeader(byte[] good, String oldHeader, String newHeader) {
        byte[] h = newHeader.getBytes(StandardCharsets.UTF_8);
        assertThat(h.length).isEqualTo(oldHeader.getBytes(StandardCharsets.UTF_8).length);
        assertThat(newHeader).isNotEqualTo(oldHeader);
        byte[] b = good.clone();
        System.arraycopy(h, 0, b, 8, h.length);
        return b;
    }

    private static void assertRejected(Path dir, String name, byte[] bytes, String... parts) throws IOException {
        Path p = dir.resolve(name + ".safetensors");
        Files.write(p, bytes);
        Throwable t = catchThrowable(() -> SafetensorsFile.open(p).close());
        assertThat(t).as(name).isInstanceOf(PagodaException.class);
        assertThat(t.getMessage()).as(name).contains(p.toString()).doesNotContain("\n").contains(parts);
    }
}
