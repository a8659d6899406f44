package dev.pagoda.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.TestData;
import dev.pagoda.format.gguf.GgufFile;
import dev.pagoda.format.gguf.GgufTensorInfo;
import dev.pagoda.format.gguf.GgufValueType;
import dev.pagoda.format.gguf.GgufWriter;
import dev.pagoda.kernel.TensorType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gemma 3 (no fixture of its own): the gemma2 fixture's weights as a Gemma 3 model (HF {@code gemma3_text} folder, and a
 * GGUF laid out as llama.cpp's converter writes gemma3), plus per-head q/k norm weights w_q[i] = 0.3 sin(0.7 i + 1.3 l), w_k[i] = 0.3 cos(0.5 i + 0.9 l) in a second shard; no soft-caps, five
 * sliding-window layers (window 16, rope base 10000) per global one (rope base 1e6, linear scaling x2). The expected
 * tokens and top-1 logits come from an independent float64 numpy forward pass written from the transformers Gemma 3
 * text model, run once on the same weights (gemma2 prompt 1, 24 greedy steps; smallest top-1/top-2 gap 0.071).
 */
class Gemma3Test {
    static final int[] TOKENS = {368, 136, 368, 136, 361, 35, 64, 137, 347, 253, 253, 178, 253, 178, 12, 178, 253, 253, 253, 128,
            445, 445, 445, 445};
    static final double[] TOP1 = {31.95042, 28.28251, 24.96782, 28.00395, 30.57016, 26.7116, 23.1702, 28.46399, 30.30417, 31.65477,
            28.36848, 29.70432, 27.76373, 33.0373, 26.42451, 31.22224, 32.41748, 31.29032, 30.43527, 31.89588, 24.99128, 31.67176,
            29.17161, 32.43271};
    static final int LAYERS = 26, HEAD_DIM = 32;

    @TempDir
    Path dir;

    /** The q/k norm weights w (HF stores w; GGUF stores 1 + w, as llama.cpp's converter writes Gemma norms). */
    static float[] qkNorm(char qk, int layer) {
        float[] w = new float[HEAD_DIM];
        for (int i = 0; i < HEAD_DIM; i++) {
            w[i] = (float) (qk == 'q' ? 0.3 * Math.sin(0.7 * i + 1.3 * layer) : 0.3 * Math.cos(0.5 * i + 0.9 * layer));
        }
        return w;
    }

    static void assertMatchesReference(Model m) throws IOException {
        ModelConfig c = m.config();
        assertThat(c.architecture()).isEqualTo("gemma3");
        assertThat(c.features()).contains("sliding window 16 on 22 of 26 layers");
        int[] prompt = SyntheticGoldenTest.ints(SyntheticGoldenTest.golden("gemma2").get("prompts").get(1).get("prompt_token_ids"));
        SyntheticGoldenTest.Greedy run = SyntheticGoldenTest.greedy(m, prompt, TOKENS.length);
        assertThat(run.tokens()).containsExactly(TOKENS);
        for (int k = 0; k < TOKENS.length; k++) {
            assertThat((double) run.top1Logit()[k]).as("step %d top-1 logit", k).isCloseTo(TOP1[k], within(2e-3));
        }
    }

    /** The gemma2 GGUF's tensors and tokenizer under gemma3 keys, with the q/k norms and the rope settings above. */
    @Test
    void ggufMatchesTheReference() throws IOException {
        Path out = dir.resolve("gemma3.gguf");
        try (GgufFile g2 = GgufFile.open(TestData.path("models/synthetic/gemma2/gemma2-f32.gguf"))) {
            GgufWriter w = new GgufWriter();
            w.put("general.architecture", "gemma3");
            for (String key : new String[] {"context_length", "embedding_length", "feed_forward_length", "block_count",
                    "attention.head_count", "attention.head_count_kv", "attention.key_length", "attention.value_length",
                    "attention.sliding_window"}) {
                w.put("gemma3." + key, GgufValueType.UINT32, (long) g2.getInt("gemma2." + key));
            }
            w.put("gemma3.attention.layer_norm_rms_epsilon", g2.getFloat("gemma2.attention.layer_norm_rms_epsilon"));
            w.put("gemma3.rope.freq_base", 1e6f);
            w.put("gemma3.rope.scaling.type", "linear");
            w.put("gemma3.rope.scaling.factor", 2f);
            w.put("tokenizer.ggml.model", g2.getString("tokenizer.ggml.model"));
            w.put("tokenizer.ggml.pre", g2.getString("tokenizer.ggml.pre"));
            w.put("tokenizer.ggml.tokens", g2.getStringArray("tokenizer.ggml.tokens"));
            w.put("tokenizer.ggml.token_type", g2.getIntArray("tokenizer.ggml.token_type"));
            w.put("tokenizer.ggml.merges", g2.getStringArray("tokenizer.ggml.merges"));
            w.put("tokenizer.ggml.bos_token_id", GgufValueType.UINT32, (long) g2.getInt("tokenizer.ggml.bos_token_id"));
            w.put("tokenizer.ggml.eos_token_id", GgufValueType.UINT32, (long) g2.getInt("tokenizer.ggml.eos_token_id"));
            w.put("tokenizer.ggml.add_bos_token", true);
            for (GgufTensorInfo t : g2.tensors()) {
                w.addTensor(t.name(), t.type(), t.ne(), g2.tensor(t.name()).data());
            }
            for (int l = 0; l < LAYERS; l++) {
                for (char qk : new char[] {'q', 'k'}) {
                    float[] v = qkNorm(qk, l);
                    for (int i = 0; i < v.length; i++) {
                        v[i] += 1f;
                    }
                    w.addTensor("blk." + l + ".attn_" + qk + "_norm.weight", TensorType.F32, new long[] {HEAD_DIM}, MemorySegment.ofArray(v));
                }
            }
            w.write(out);
        }
        try (Model m = ModelLoader.open(out)) {
            assertMatchesReference(m);
        }
    }

    @Test
    void huggingFaceMatchesTheReference() throws IOException {
        Path gemma2 = TestData.path("models/synthetic/gemma2/hf");
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) json.readTree(gemma2.resolve("config.json").toFile());
        cfg.put("model_type", "gemma3_text").putNull("attn_logit_softcapping").putNull("final_logit_softcapping");
        cfg.put("rope_theta", 1e6).put("rope_local_base_freq", 10000.0).put("sliding_window_pattern", 6);
        cfg.putObject("rope_scaling").put("rope_type", "linear").put("factor", 2.0);
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json", "generation_config.json"}) {
            Files.copy(gemma2.resolve(f), dir.resolve(f));
        }
        Files.createSymbolicLink(dir.resolve("weights.safetensors"), gemma2.resolve("model.safetensors").toAbsolutePath());
        Map<String, float[]> norms = new LinkedHashMap<>();
        for (int l = 0; l < LAYERS; l++) {
            norms.put("model.layers." + l + ".self_attn.q_norm.weight", qkNorm('q', l));
            norms.put("model.layers." + l + ".self_attn.k_norm.weight", qkNorm('k', l));
        }
        writeSafetensors(dir.resolve("norms.safetensors"), norms);
        ObjectNode map = json.createObjectNode();
        for (String name : json.readTree(header(gemma2.resolve("model.safetensors"))).properties().stream().map(Map.Entry::getKey).toList()) {
            if (!name.equals("__metadata__")) {
                map.put(name, "weights.safetensors");
            }
        }
        norms.keySet().forEach(n -> map.put(n, "norms.safetensors"));
        ObjectNode index = json.createObjectNode();
        index.set("weight_map", map);
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.toString());

        try (Model m = ModelLoader.open(dir)) {
            assertMatchesReference(m);
        }
    }

    private static String header(Path safetensors) throws IOException {
        try (var in = Files.newInputStream(safetensors)) {
            long n = ByteBuffer.wrap(in.readNBytes(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
            return new String(in.readNBytes((int) n), StandardCharsets.UTF_8);
        }
    }

    /** A safetensors file of 1-D F32 tensors: u64 header length, JSON header, data. */
    private static void writeSafetensors(Path file, Map<String, float[]> tensors) throws IOException {
        StringBuilder h = new StringBuilder("{");
        long offset = 0;
        for (var e : tensors.entrySet()) {
            long end = offset + 4L * e.getValue().length;
            h.append(h.length() > 1 ? "," : "").append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":[")
                    .append(e.getValue().length).append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        byte[] header = h.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        tensors.values().forEach(v -> {
            for (float x : v) {
                b.putFloat(x);
            }
        });
        Files.write(file, b.array());
    }
}
