package dev.pagoda.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.TestData;
import java.io.IOException;
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
 * Gemma 3 (no fixture of its own): the gemma2 fixture's HF weights as a {@code gemma3_text} model, plus per-head q/k
 * norm weights w_q[i] = 0.3 sin(0.7 i + 1.3 l), w_k[i] = 0.3 cos(0.5 i + 0.9 l) in a second shard; no soft-caps, five
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

    @Test
    void matchesAnIndependentReference() throws IOException {
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
            float[] q = new float[HEAD_DIM], k = new float[HEAD_DIM];
            for (int i = 0; i < HEAD_DIM; i++) {
                q[i] = (float) (0.3 * Math.sin(0.7 * i + 1.3 * l));
                k[i] = (float) (0.3 * Math.cos(0.5 * i + 0.9 * l));
            }
            norms.put("model.layers." + l + ".self_attn.q_norm.weight", q);
            norms.put("model.layers." + l + ".self_attn.k_norm.weight", k);
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
