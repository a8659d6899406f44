package dev.pagoda.format.gguf;

import dev.pagoda.TestData;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufFileTest {
    static final Path STORIES = TestData.path("models/stories260K/stories260K.gguf");

    @Test
    void readsStories260KHeaderAndMetadata() {
        try (GgufFile f = GgufFile.open(STORIES)) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.path()).isEqualTo(STORIES);
            assertThat(f.tensors()).hasSize(48);
            assertThat(f.alignment()).isEqualTo(32);
            assertThat(f.dataOffset() % 32).isZero();
            assertThat(f.getString("general.architecture")).isEqualTo("llama");
            assertThat(f.getInt("llama.embedding_length")).isEqualTo(64);
            assertThat(f.getInt("llama.block_count")).isEqualTo(5);
            assertThat(f.getInt("llama.attention.head_count")).isEqualTo(8);
            assertThat(f.getInt("llama.attention.head_count_kv")).isEqualTo(4);
            assertThat(f.getLong("llama.context_length")).isEqualTo(2048);
            assertThat(f.getInt("llama.rope.dimension_count")).isEqualTo(8);
            assertThat(f.getFloat("llama.attention.layer_norm_rms_epsilon")).isEqualTo(1e-5f);
            assertThat(f.getString("tokenizer.ggml.model")).isEqualTo("llama");
            String[] tokens = f.getStringArray("tokenizer.ggml.tokens");
            assertThat(tokens).hasSize(512);
            assertThat(tokens[0]).isEqualTo("<unk>");
            assertThat(tokens[3]).isEqualTo("<0x00>");
            assertThat(f.getFloatArray("tokenizer.ggml.scores")).hasSize(512);
            assertThat(f.getIntArray("tokenizer.ggml.token_type")).hasSize(512);
            assertThat(f.getInt("tokenizer.ggml.bos_token_id")).isEqualTo(1);
            assertThat(f.getInt("tokenizer.ggml.eos_token_id")).isEqualTo(2);
            assertThat(f.type("tokenizer.ggml.bos_token_id")).isEqualTo(GgufValueType.UINT32);
            assertThat(f.metadata()).containsKey("tokenizer.ggml.tokens");
        }
    }

    @Test
    void typedGettersReportMissingKeysAndWrongTypesNamingTheFile() {
        try (GgufFile f = GgufFile.open(STORIES)) {
            assertThat(f.has("no.such.key")).isFalse();
            assertThat(f.getInt("no.such.key", 7)).isEqualTo(7);
            assertThat(f.getString("no.such.key", "x")).isEqualTo("x");
            assertThat(f.getFloat("no.such.key", 0.5f)).isEqualTo(0.5f);
            assertThat(f.getBool("no.such.key", true)).isTrue();
            assertThat(f.getLong("no.such.key", -1L)).isEqualTo(-1L);
            assertThat(f.getStringArray("no.such.key", null)).isNull();
            assertThat(f.getInt("llama.block_count", 99)).isEqualTo(5);
            assertThatThrownBy(() -> f.getInt("no.such.key"))
                    .hasMessageContaining("no.such.key").hasMessageContaining("stories260K.gguf");
            assertThatThrownBy(() -> f.getString("llama.block_count"))
                    .hasMessageContaining("llama.block_count").hasMessageContaining("u32").hasMessageContaining("stories260K.gguf");
            assertThatThrownBy(() -> f.getIntArray("tokenizer.ggml.tokens"))
                    .hasMessageContaining("array of strings");
            assertThatThrownBy(() -> f.getFloat("general.architecture")).hasMessageContaining("general.architecture");
            assertThat(f.tensorInfo("no.such.tensor")).isNull();
            assertThatThrownBy(() -> f.tensor("no.such.tensor"))
                    .hasMessageContaining("no.such.tensor").hasMessageContaining("stories260K.gguf");
        }
    }

    @Test
    void tensorShapesFollowGgmlOrder() {
        try (GgufFile f = GgufFile.open(STORIES)) {
            GgufTensorInfo embd = f.tensorInfo("token_embd.weight");
            assertThat(embd.ne()).containsExactly(64, 512);
            assertThat(embd.type()).isEqualTo(TensorType.F32);
            WeightMatrix m = f.tensor("token_embd.weight");
            assertThat(m.rows()).isEqualTo(512);
            assertThat(m.cols()).isEqualTo(64);
            assertThat(m.data().byteSize()).isEqualTo(512 * 64 * 4);
            assertThat(f.tensorInfo("blk.0.attn_k.weight").ne()).containsExactly(64, 32);
            assertThat(f.tensorInfo("blk.4.ffn_down.weight").ne()).containsExactly(172, 64);
            WeightMatrix norm = f.tensor("output_norm.weight");
            assertThat(norm.rows()).isEqualTo(1);
            assertThat(norm.cols()).isEqualTo(64);
        }
    }

    /** Every checked tensor is bit-identical to its float32 array in the llama2.c checkpoint. */
    @Test
    void tensorsEqualTheLlama2cCheckpoint() throws IOException {
        Map<String, Long> at = llama2cOffsets();
        ByteBuffer bin = ByteBuffer.wrap(Files.readAllBytes(TestData.path("models/stories260K/stories260K.bin")))
                .order(ByteOrder.LITTLE_ENDIAN);
        String[] names = {"token_embd.weight", "blk.0.attn_norm.weight", "blk.0.attn_q.weight", "blk.1.attn_k.weight",
                "blk.2.attn_v.weight", "blk.3.attn_output.weight", "blk.4.ffn_norm.weight", "blk.0.ffn_gate.weight",
                "blk.2.ffn_down.weight", "blk.4.ffn_up.weight", "output_norm.weight", "output.weight"};
        try (GgufFile f = GgufFile.open(STORIES)) {
            for (String name : names) {
                WeightMatrix m = f.tensor(name);
                long n = (long) m.rows() * m.cols();
                float[] got = m.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                assertThat(got).as(name).hasSize((int) n);
                float[] want = new float[(int) n];
                bin.slice((int) (28 + 4 * at.get(name)), (int) (4 * n)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(want);
                assertThat(Float.floatToRawIntBits(got[0])).isEqualTo(Float.floatToRawIntBits(want[0]));
                assertThat(got).as(name).containsExactly(want);
            }
        }
    }

    /** Float offsets (after the 7-int header) of the GGUF-named tensors in stories260K.bin (README layout). */
    private static Map<String, Long> llama2cOffsets() {
        int dim = 64, hidden = 172, layers = 5, kvDim = 32, vocab = 512;
        Map<String, Long> at = new LinkedHashMap<>();
        long p = 0;
        at.put("token_embd.weight", p);
        at.put("output.weight", p); // shared classifier: output.weight is a copy of the embedding
        p += (long) vocab * dim;
        p = perLayer(at, p, "attn_norm", dim, layers);
        p = perLayer(at, p, "attn_q", dim * dim, layers);
        p = perLayer(at, p, "attn_k", kvDim * dim, layers);
        p = perLayer(at, p, "attn_v", kvDim * dim, layers);
        p = perLayer(at, p, "attn_output", dim * dim, layers);
        p = perLayer(at, p, "ffn_norm", dim, layers);
        p = perLayer(at, p, "ffn_gate", hidden * dim, layers);
        p = perLayer(at, p, "ffn_down", dim * hidden, layers);
        p = perLayer(at, p, "ffn_up", hidden * dim, layers);
        at.put("output_norm.weight", p);
        return at;
    }

    private static long perLayer(Map<String, Long> at, long p, String kind, int size, int layers) {
        for (int l = 0; l < layers; l++) {
            at.put("blk." + l + "." + kind + ".weight", p + (long) l * size);
        }
        return p + (long) layers * size;
    }

    @Test
    void closeIsIdempotentAndReleasesTheMapping() {
        GgufFile f = GgufFile.open(STORIES);
        MemorySegment data = f.tensor("output_norm.weight").data();
        f.close();
        f.close();
        assertThat(data.scope().isAlive()).isFalse();
    }

    @Test
    void missingFileIsAPagodaException() {
        Path missing = TestData.scratch("gguf").resolve("does-not-exist.gguf");
        assertThatThrownBy(() -> GgufFile.open(missing))
                .isInstanceOf(dev.pagoda.PagodaException.class).hasMessageContaining("does-not-exist.gguf");
    }
}
