package dev.pagoda.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.PagodaException;
import dev.pagoda.format.safetensors.SafetensorsModel;
import dev.pagoda.kernel.RopeStyle;
import dev.pagoda.kernel.WeightMatrix;
import dev.pagoda.tokenizer.Tokenizer;
import dev.pagoda.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Hugging Face folders: config.json (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM), safetensors
 * weights (single or sharded), tokenizer.json, and generation_config.json for the stop tokens. HF stores
 * q/k projections in the "rotate half" RoPE order, so the model runs with {@link RopeStyle#HALF}.
 */
final class HuggingFaceLoader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HuggingFaceLoader() {
    }

    static Model load(Path dir) {
        JsonNode cfg = readJson(dir.resolve("config.json"));
        String modelType = cfg.path("model_type").asText("");
        String arch = switch (modelType) {
            case "llama", "mistral" -> "llama";
            case "qwen2" -> "qwen2";
            default -> throw new PagodaException(dir.resolve("config.json") + ": unknown architecture model_type '" + modelType
                    + "' (supported: llama, mistral, qwen2)");
        };
        int dim = requireInt(cfg, "hidden_size", dir);
        int heads = requireInt(cfg, "num_attention_heads", dir);
        ModelConfig config = new ModelConfig(arch, dim,
                requireInt(cfg, "intermediate_size", dir),
                requireInt(cfg, "num_hidden_layers", dir),
                heads,
                cfg.path("num_key_value_heads").asInt(heads),
                cfg.hasNonNull("head_dim") ? cfg.get("head_dim").asInt() : dim / heads,
                requireInt(cfg, "vocab_size", dir),
                cfg.path("max_position_embeddings").asInt(2048),
                (float) cfg.path("rms_norm_eps").asDouble(1e-6),
                (float) cfg.path("rope_theta").asDouble(10000),
                RopeStyle.HALF);
        SafetensorsModel st = SafetensorsModel.open(dir);
        try {
            String lmHead = "lm_head.weight", embedName = "model.embed_tokens.weight";
            WeightMatrix embedding = st.has(embedName) ? st.tensor(embedName) : st.has(lmHead) ? st.tensor(lmHead) : null;
            if (embedding == null) {
                throw new PagodaException(dir + ": missing tensor " + embedName);
            }
            WeightMatrix output = st.has(lmHead) ? st.tensor(lmHead) : embedding;
            List<LayerWeights> layers = new ArrayList<>();
            for (int l = 0; l < config.layers(); l++) {
                String p = "model.layers." + l + ".";
                boolean bias = st.has(p + "self_attn.q_proj.bias");
                layers.add(new LayerWeights(
                        Weights.vector(require(st, dir, p + "input_layernorm.weight")),
                        shaped(st, dir, p + "self_attn.q_proj.weight", config.qDim(), dim),
                        shaped(st, dir, p + "self_attn.k_proj.weight", config.kvDim(), dim),
                        shaped(st, dir, p + "self_attn.v_proj.weight", config.kvDim(), dim),
                        shaped(st, dir, p + "self_attn.o_proj.weight", dim, config.qDim()),
                        bias ? Weights.vector(require(st, dir, p + "self_attn.q_proj.bias")) : null,
                        bias ? Weights.vector(require(st, dir, p + "self_attn.k_proj.bias")) : null,
                        bias ? Weights.vector(require(st, dir, p + "self_attn.v_proj.bias")) : null,
                        Weights.vector(require(st, dir, p + "post_attention_layernorm.weight")),
                        shaped(st, dir, p + "mlp.gate_proj.weight", config.hiddenDim(), dim),
                        shaped(st, dir, p + "mlp.down_proj.weight", dim, config.hiddenDim()),
                        shaped(st, dir, p + "mlp.up_proj.weight", config.hiddenDim(), dim)));
            }
            ModelWeights weights = new ModelWeights(embedding, layers, Weights.vector(require(st, dir, "model.norm.weight")), output);
            Tokenizer tokenizer = Tokenizers.fromHuggingFace(dir);
            Set<Integer> stops = new LinkedHashSet<>();
            if (tokenizer.eosId() >= 0) {
                stops.add(tokenizer.eosId());
            }
            Path gen = dir.resolve("generation_config.json");
            JsonNode eos = Files.isRegularFile(gen) ? readJson(gen).path("eos_token_id") : cfg.path("eos_token_id");
            if (eos.isInt()) {
                stops.add(eos.asInt());
            } else if (eos.isArray()) {
                eos.forEach(n -> stops.add(n.asInt()));
            }
            Path tc = dir.resolve("tokenizer_config.json");
            JsonNode template = Files.isRegularFile(tc) ? readJson(tc).path("chat_template") : null;
            return new Model(dir.getFileName().toString(), dir, "huggingface", config, weights, tokenizer,
                    stops.stream().mapToInt(Integer::intValue).toArray(),
                    template != null && template.isTextual() ? template.asText() : null, List.of(st));
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
    }

    private static JsonNode readJson(Path p) {
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new PagodaException(p + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static int requireInt(JsonNode cfg, String key, Path dir) {
        if (!cfg.path(key).canConvertToInt()) {
            throw new PagodaException(dir.resolve("config.json") + ": missing integer '" + key + "'");
        }
        return cfg.get(key).asInt();
    }

    private static WeightMatrix require(SafetensorsModel st, Path dir, String name) {
        if (!st.has(name)) {
            throw new PagodaException(dir + ": missing tensor " + name);
        }
        return st.tensor(name);
    }

    private static WeightMatrix shaped(SafetensorsModel st, Path dir, String name, int rows, int cols) {
        WeightMatrix m = require(st, dir, name);
        if (m.rows() != rows || m.cols() != cols) {
            throw new PagodaException(dir + ": tensor " + name + " is " + m.rows() + "x" + m.cols() + ", expected " + rows + "x" + cols);
        }
        return m;
    }
}
