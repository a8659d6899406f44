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
 * Hugging Face folders: config.json (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,
 * Gemma2ForCausalLM, Gemma3ForCausalLM, Phi3ForCausalLM), safetensors weights (single or sharded), tokenizer.json,
 * and generation_config.json for the stop tokens. HF stores q/k projections in the "rotate half" RoPE order, so the
 * model runs with {@link RopeStyle#HALF}. Gemma's norms compute x * (1 + w): the 1 is added here, once.
 */
final class HuggingFaceLoader {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SUPPORTED = "llama, mistral, qwen2, qwen3, gemma2, gemma3_text, phi3";

    private HuggingFaceLoader() {
    }

    static Model load(Path dir) {
        Path configFile = dir.resolve("config.json");
        JsonNode cfg = readJson(configFile);
        String modelType = cfg.path("model_type").asText("");
        Architecture arch = switch (modelType) {
            case "llama", "mistral" -> Architecture.LLAMA;
            case "qwen2" -> Architecture.QWEN2;
            case "qwen3" -> Architecture.QWEN3;
            case "gemma2" -> Architecture.GEMMA2;
            case "gemma3_text" -> Architecture.GEMMA3;
            case "phi3" -> Architecture.PHI3;
            default -> throw new PagodaException(configFile + ": unknown architecture model_type '" + modelType
                    + "' (supported: " + SUPPORTED + ")");
        };
        int dim = requireInt(cfg, "hidden_size", dir);
        int heads = requireInt(cfg, "num_attention_heads", dir);
        int headDim = cfg.hasNonNull("head_dim") ? cfg.get("head_dim").asInt() : dim / heads;
        int layerCount = requireInt(cfg, "num_hidden_layers", dir);
        int context = cfg.path("max_position_embeddings").asInt(2048);
        double partialRotary = cfg.path("partial_rotary_factor").asDouble(1.0);
        if (partialRotary != 1.0) {
            throw new PagodaException(configFile + ": partial rotary embedding (partial_rotary_factor " + partialRotary + ") is not supported");
        }
        String act = cfg.hasNonNull("hidden_activation") ? cfg.get("hidden_activation").asText() : cfg.path("hidden_act").asText("silu");
        Activation activation = switch (act) {
            case "silu" -> Activation.SILU;
            case "gelu_pytorch_tanh" -> Activation.GELU_TANH;
            default -> throw new PagodaException(configFile + ": activation '" + act + "' is not supported (supported: silu, gelu_pytorch_tanh)");
        };
        if (activation != arch.activation()) {
            throw new PagodaException(configFile + ": activation '" + act + "' is not the one " + modelType + " uses");
        }
        float theta = (float) cfg.path("rope_theta").asDouble(10000);
        JsonNode scaling = cfg.path("rope_scaling");
        if (scaling.isObject() && "dynamic".equals(scalingType(scaling)) && scaling.hasNonNull("original_max_position_embeddings")) {
            // Dynamic NTK leaves the frequencies alone up to the original context: serve only that much.
            context = Math.min(context, scaling.get("original_max_position_embeddings").asInt());
        }
        Rope rope = rope(cfg, scaling, theta, headDim, context, configFile);
        Rope slidingRope = arch == Architecture.GEMMA3
                ? Rope.plain((float) cfg.path("rope_local_base_freq").asDouble(10000), RopeStyle.HALF) : rope;
        float scale = (float) (1 / Math.sqrt(cfg.hasNonNull("query_pre_attn_scalar") ? cfg.get("query_pre_attn_scalar").asDouble() : headDim));
        float softCap = (float) cfg.path("attn_logit_softcapping").asDouble(0);
        List<LayerAttention> attention = new ArrayList<>();
        for (int l = 0; l < layerCount; l++) {
            int window = slidingWindow(cfg, arch, l, configFile);
            attention.add(new LayerAttention(window, scale, softCap, window > 0 ? slidingRope : rope));
        }
        ModelConfig config = new ModelConfig(arch.id, dim,
                requireInt(cfg, "intermediate_size", dir),
                layerCount,
                heads,
                cfg.path("num_key_value_heads").asInt(heads),
                headDim,
                requireInt(cfg, "vocab_size", dir),
                context,
                (float) cfg.path("rms_norm_eps").asDouble(1e-6),
                rope, attention, activation, arch.embeddingScale(dim),
                (float) cfg.path("final_logit_softcapping").asDouble(0));
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
                layers.add(layer(st, dir, "model.layers." + l + ".", arch, config));
            }
            ModelWeights weights = new ModelWeights(embedding, layers, norm(st, dir, "model.norm.weight", dim, arch), output);
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

    /**
     * One decoder layer. Llama-style checkpoints name the feed-forward norm post_attention_layernorm; Gemma's
     * post_attention_layernorm normalizes the attention output and pre_feedforward_layernorm is the feed-forward norm.
     * Phi-3's fused qkv_proj (rows q | k | v) and gate_up_proj (rows gate | up) are split by rows.
     */
    private static LayerWeights layer(SafetensorsModel st, Path dir, String p, Architecture arch, ModelConfig c) {
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), hidden = c.hiddenDim();
        WeightMatrix wq, wk, wv, gate, up;
        if (st.has(p + "self_attn.qkv_proj.weight")) {
            WeightMatrix qkv = shaped(st, dir, p + "self_attn.qkv_proj.weight", qDim + 2 * kvDim, dim);
            wq = Weights.rows(qkv, 0, qDim);
            wk = Weights.rows(qkv, qDim, kvDim);
            wv = Weights.rows(qkv, qDim + kvDim, kvDim);
        } else {
            wq = shaped(st, dir, p + "self_attn.q_proj.weight", qDim, dim);
            wk = shaped(st, dir, p + "self_attn.k_proj.weight", kvDim, dim);
            wv = shaped(st, dir, p + "self_attn.v_proj.weight", kvDim, dim);
        }
        if (st.has(p + "mlp.gate_up_proj.weight")) {
            WeightMatrix gateUp = shaped(st, dir, p + "mlp.gate_up_proj.weight", 2 * hidden, dim);
            gate = Weights.rows(gateUp, 0, hidden);
            up = Weights.rows(gateUp, hidden, hidden);
        } else {
            gate = shaped(st, dir, p + "mlp.gate_proj.weight", hidden, dim);
            up = shaped(st, dir, p + "mlp.up_proj.weight", hidden, dim);
        }
        boolean bias = st.has(p + "self_attn.q_proj.bias");
        boolean post = arch.postNorms();
        return new LayerWeights(
                norm(st, dir, p + "input_layernorm.weight", dim, arch),
                wq, wk, wv,
                shaped(st, dir, p + "self_attn.o_proj.weight", dim, qDim),
                bias ? vector(st, dir, p + "self_attn.q_proj.bias", qDim) : null,
                bias ? vector(st, dir, p + "self_attn.k_proj.bias", kvDim) : null,
                bias ? vector(st, dir, p + "self_attn.v_proj.bias", kvDim) : null,
                norm(st, dir, p + (post ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"), dim, arch),
                gate, shaped(st, dir, p + "mlp.down_proj.weight", dim, hidden), up,
                arch.qkNorm() ? norm(st, dir, p + "self_attn.q_norm.weight", c.headDim(), arch) : null,
                arch.qkNorm() ? norm(st, dir, p + "self_attn.k_norm.weight", c.headDim(), arch) : null,
                post ? norm(st, dir, p + "post_attention_layernorm.weight", dim, arch) : null,
                post ? norm(st, dir, p + "post_feedforward_layernorm.weight", dim, arch) : null);
    }

    /** A norm weight as the factor it multiplies by: Gemma stores w of x * (1 + w). */
    private static float[] norm(SafetensorsModel st, Path dir, String name, int length, Architecture arch) {
        float[] w = vector(st, dir, name, length);
        if (arch.gemma()) {
            for (int i = 0; i < w.length; i++) {
                w[i] += 1f;
            }
        }
        return w;
    }

    private static float[] vector(SafetensorsModel st, Path dir, String name, int length) {
        WeightMatrix m = require(st, dir, name);
        if ((long) m.rows() * m.cols() != length) {
            throw new PagodaException(dir + ": tensor " + name + " has " + (long) m.rows() * m.cols() + " elements, expected " + length);
        }
        return Weights.vector(m);
    }

    /**
     * Layer {@code l}'s sliding window, 0 for global attention: from {@code layer_types} when the config lists
     * them, else as each architecture's modelling code decides (Gemma 2 even layers, Gemma 3 all but every sixth,
     * Phi-3 and Mistral every layer, Qwen only with use_sliding_window, from max_window_layers on).
     */
    private static int slidingWindow(JsonNode cfg, Architecture arch, int l, Path configFile) {
        JsonNode w = cfg.path("sliding_window");
        if (!w.canConvertToInt() || w.asInt() <= 0) {
            return 0;
        }
        JsonNode types = cfg.path("layer_types");
        if (types.isArray()) {
            String t = types.path(l).asText("");
            return switch (t) {
                case "sliding_attention" -> w.asInt();
                case "full_attention" -> 0;
                default -> throw new PagodaException(configFile + ": layer_types[" + l + "] '" + t
                        + "' is not supported (supported: sliding_attention, full_attention)");
            };
        }
        boolean sliding = switch (arch) {
            case QWEN2, QWEN3 -> cfg.path("use_sliding_window").asBoolean(false) && l >= cfg.path("max_window_layers").asInt(0);
            case GEMMA3 -> (l + 1) % cfg.path("sliding_window_pattern").asInt(Architecture.GEMMA3_PATTERN) != 0;
            default -> arch.slidingLayer(l);
        };
        return sliding ? w.asInt() : 0;
    }

    private static String scalingType(JsonNode scaling) {
        return scaling.hasNonNull("rope_type") ? scaling.get("rope_type").asText() : scaling.path("type").asText("default");
    }

    /** The rope with the config's rope_scaling; a scaling type Pagoda does not compute is refused by name. */
    private static Rope rope(JsonNode cfg, JsonNode scaling, float theta, int headDim, int context, Path configFile) {
        RopeStyle style = RopeStyle.HALF;
        if (!scaling.isObject()) {
            return Rope.plain(theta, style);
        }
        String type = scalingType(scaling);
        int original = scaling.hasNonNull("original_max_position_embeddings") ? scaling.get("original_max_position_embeddings").asInt()
                : cfg.path("original_max_position_embeddings").asInt(cfg.path("max_position_embeddings").asInt(context));
        float factor = (float) scaling.path("factor").asDouble(1);
        return switch (type) {
            case "default", "dynamic" -> Rope.plain(theta, style);
            case "linear" -> Rope.linear(theta, style, headDim, factor);
            case "llama3" -> Rope.llama3(theta, style, headDim, factor, (float) scaling.path("low_freq_factor").asDouble(1),
                    (float) scaling.path("high_freq_factor").asDouble(4), original);
            case "yarn" -> {
                double mscale = scaling.path("mscale").asDouble(0), mscaleAllDim = scaling.path("mscale_all_dim").asDouble(0);
                double attn = scaling.hasNonNull("attention_factor") ? scaling.get("attention_factor").asDouble()
                        : mscale != 0 && mscaleAllDim != 0 ? Rope.yarnMscale(factor, mscale) / Rope.yarnMscale(factor, mscaleAllDim)
                        : Rope.yarnMscale(factor, 1);
                yield Rope.yarn(theta, style, headDim, factor, original, scaling.path("beta_fast").asDouble(32),
                        scaling.path("beta_slow").asDouble(1), (float) attn, scaling.path("truncate").asBoolean(true));
            }
            case "longrope", "su" -> {
                int phiOriginal = cfg.path("original_max_position_embeddings").asInt(original);
                boolean useLong = context > phiOriginal;
                String which = useLong ? "long" : "short";
                JsonNode factors = scaling.path(which + "_factor");
                if (!factors.isArray()) {
                    throw new PagodaException(configFile + ": rope_scaling " + type + " has no " + which + "_factor list");
                }
                float[] d = new float[factors.size()];
                for (int i = 0; i < d.length; i++) {
                    d[i] = (float) factors.get(i).asDouble();
                }
                float attn = scaling.hasNonNull("attention_factor") ? (float) scaling.get("attention_factor").asDouble()
                        : Rope.longropeAttentionFactor(context, phiOriginal);
                yield Rope.longrope(theta, style, headDim, d, attn, which);
            }
            default -> throw new PagodaException(configFile + ": rope scaling type '" + type + "' is not supported (supported: "
                    + Rope.SUPPORTED_SCALING + ")");
        };
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
