package dev.pagoda.model;

import dev.pagoda.PagodaException;
import dev.pagoda.format.gguf.GgufFile;
import dev.pagoda.kernel.RopeStyle;
import dev.pagoda.kernel.WeightMatrix;
import dev.pagoda.tokenizer.Tokenizer;
import dev.pagoda.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Llama-family models in GGUF, named by general.architecture: "llama" (Llama 2/3, Mistral, TinyLlama, SmolLM),
 * "qwen2" (q/k/v biases), "qwen3" (q/k norms), "gemma2", "gemma3" and "phi3" (fused qkv and gate|up), with tensor
 * names and keys as llama.cpp's converter writes them. llama.cpp stores llama q/k rows in the interleaved RoPE
 * order; the other architectures keep the half-split ("neox") order. Gemma norm weights are stored as 1 + w.
 */
final class GgufLoader {
    private GgufLoader() {
    }

    static Model load(Path path) {
        GgufFile f = GgufFile.open(path);
        try {
            String archName = f.getString("general.architecture");
            Architecture arch = Architecture.fromGguf(archName, path);
            String a = archName + ".";
            WeightMatrix embedding = require(f, "token_embd.weight");
            int dim = f.getInt(a + "embedding_length");
            int heads = f.getInt(a + "attention.head_count");
            int headDim = f.getInt(a + "attention.key_length", dim / heads);
            int layerCount = f.getInt(a + "block_count");
            int context = f.getInt(a + "context_length");
            int rotary = f.getInt(a + "rope.dimension_count", headDim);
            if (rotary != headDim) {
                throw new PagodaException(path + ": partial rotary embedding (" + a + "rope.dimension_count " + rotary
                        + " < head size " + headDim + ") is not supported");
            }
            RopeStyle style = arch == Architecture.LLAMA ? RopeStyle.INTERLEAVED : RopeStyle.HALF;
            float theta = f.getFloat(a + "rope.freq_base", 10000f);
            Rope rope = rope(f, a, theta, style, headDim, context);
            // Gemma 3's sliding-window layers rotate with their own base and no scaling (llama.cpp's fixed 10000).
            Rope slidingRope = arch == Architecture.GEMMA3 ? Rope.plain(10000f, style) : rope;
            int window = f.getInt(a + "attention.sliding_window", 0);
            float softCap = f.getFloat(a + "attn_logit_softcapping", 0f);
            // llama.cpp scales Gemma queries by 1/sqrt(dim/heads) for the 27B models (46 and 62 layers), else 1/sqrt(headDim).
            boolean gemma27b = arch.gemma() && (layerCount == 46 || layerCount == 62);
            float scale = (float) (1 / Math.sqrt(gemma27b ? dim / heads : headDim));
            List<LayerAttention> attention = new ArrayList<>();
            for (int l = 0; l < layerCount; l++) {
                boolean sliding = window > 0 && arch.slidingLayer(l);
                attention.add(new LayerAttention(sliding ? window : 0, scale, softCap, sliding ? slidingRope : rope));
            }
            ModelConfig config = new ModelConfig(archName, dim,
                    f.getInt(a + "feed_forward_length"),
                    layerCount,
                    heads,
                    f.getInt(a + "attention.head_count_kv", heads),
                    headDim,
                    embedding.rows(),
                    context,
                    f.getFloat(a + "attention.layer_norm_rms_epsilon", 1e-5f),
                    rope, attention, arch.activation(), arch.embeddingScale(dim),
                    f.getFloat(a + "final_logit_softcapping", 0f));
            if (embedding.cols() != dim) {
                throw new PagodaException(path + ": token_embd.weight has rows of " + embedding.cols() + ", embedding_length is " + dim);
            }
            List<LayerWeights> layers = new ArrayList<>();
            for (int l = 0; l < config.layers(); l++) {
                layers.add(layer(f, "blk." + l + ".", arch, config));
            }
            WeightMatrix output = f.tensorInfo("output.weight") != null ? shaped(f, "output.weight", config.vocabSize(), dim) : embedding;
            ModelWeights weights = new ModelWeights(embedding, layers, Weights.vector(require(f, "output_norm.weight")), output);
            Tokenizer tokenizer = Tokenizers.fromGguf(f);
            if (tokenizer.vocabSize() > config.vocabSize()) {
                throw new PagodaException(path + ": tokenizer has " + tokenizer.vocabSize() + " tokens, the embedding only " + config.vocabSize());
            }
            List<Integer> stops = new ArrayList<>();
            if (tokenizer.eosId() >= 0) {
                stops.add(tokenizer.eosId());
            }
            int eot = f.getInt("tokenizer.ggml.eot_token_id", -1);
            if (eot >= 0 && !stops.contains(eot)) {
                stops.add(eot);
            }
            String name = f.getString("general.name", baseName(path));
            return new Model(name, path, "gguf", config, weights, tokenizer,
                    stops.stream().mapToInt(Integer::intValue).toArray(), f.getString("tokenizer.chat_template", null), List.of(f));
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** One block's weights; Phi-3's fused attn_qkv and 2*FFN-wide ffn_up (gate rows first) are split by rows. */
    private static LayerWeights layer(GgufFile f, String p, Architecture arch, ModelConfig c) {
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), hidden = c.hiddenDim();
        WeightMatrix wq, wk, wv, gate, up;
        if (f.tensorInfo(p + "attn_qkv.weight") != null) {
            WeightMatrix qkv = shaped(f, p + "attn_qkv.weight", qDim + 2 * kvDim, dim);
            wq = Weights.rows(qkv, 0, qDim);
            wk = Weights.rows(qkv, qDim, kvDim);
            wv = Weights.rows(qkv, qDim + kvDim, kvDim);
        } else {
            wq = shaped(f, p + "attn_q.weight", qDim, dim);
            wk = shaped(f, p + "attn_k.weight", kvDim, dim);
            wv = shaped(f, p + "attn_v.weight", kvDim, dim);
        }
        if (f.tensorInfo(p + "ffn_gate.weight") != null) {
            gate = shaped(f, p + "ffn_gate.weight", hidden, dim);
            up = shaped(f, p + "ffn_up.weight", hidden, dim);
        } else {
            WeightMatrix gateUp = shaped(f, p + "ffn_up.weight", 2 * hidden, dim);
            gate = Weights.rows(gateUp, 0, hidden);
            up = Weights.rows(gateUp, hidden, hidden);
        }
        boolean bias = f.tensorInfo(p + "attn_q.bias") != null;
        return new LayerWeights(
                vector(f, p + "attn_norm.weight", dim),
                wq, wk, wv,
                shaped(f, p + "attn_output.weight", dim, qDim),
                bias ? vector(f, p + "attn_q.bias", qDim) : null,
                bias ? vector(f, p + "attn_k.bias", kvDim) : null,
                bias ? vector(f, p + "attn_v.bias", kvDim) : null,
                vector(f, p + "ffn_norm.weight", dim),
                gate, shaped(f, p + "ffn_down.weight", dim, hidden), up,
                arch.qkNorm() ? vector(f, p + "attn_q_norm.weight", c.headDim()) : null,
                arch.qkNorm() ? vector(f, p + "attn_k_norm.weight", c.headDim()) : null,
                arch.postNorms() ? vector(f, p + "post_attention_norm.weight", dim) : null,
                arch.postNorms() ? vector(f, p + "post_ffw_norm.weight", dim) : null);
    }

    /**
     * The rope and its scaling: llama3's per-pair divisors ({@code rope_freqs.weight}), Phi-3's LongRoPE factors
     * ({@code rope_factors_long/short.weight}: the long ones when the context exceeds the original one, as llama.cpp
     * chooses), or {@code rope.scaling.type} linear. Any other scaling is refused by name.
     */
    private static Rope rope(GgufFile f, String a, float theta, RopeStyle style, int headDim, int context) {
        String type = f.getString(a + "rope.scaling.type", "none");
        boolean freqs = f.tensorInfo("rope_freqs.weight") != null;
        boolean longrope = f.tensorInfo("rope_factors_long.weight") != null;
        if ((freqs || longrope) && !type.equals("none")) {
            throw new PagodaException(f.path() + ": rope scaling type '" + type + "' together with per-pair rope factors is not supported");
        }
        if (freqs) {
            return new Rope(theta, style, vector(f, "rope_freqs.weight", headDim / 2), 1f, "llama3 (rope_freqs.weight)");
        }
        if (longrope) {
            int original = f.getInt(a + "rope.scaling.original_context_length");
            boolean useLong = context > original;
            String which = useLong ? "long" : "short";
            float attnFactor = f.getFloat(a + "rope.scaling.attn_factor", Rope.longropeAttentionFactor(context, original));
            return Rope.longrope(theta, style, headDim, vector(f, "rope_factors_" + which + ".weight", headDim / 2), attnFactor, which);
        }
        return switch (type) {
            case "none" -> Rope.plain(theta, style);
            case "linear" -> Rope.linear(theta, style, headDim, f.getFloat(a + "rope.scaling.factor"));
            default -> throw new PagodaException(f.path() + ": rope scaling type '" + type + "' is not supported in GGUF files (supported: "
                    + "rope_freqs.weight (llama3), rope_factors_long/short.weight (Phi-3 LongRoPE), linear)");
        };
    }

    private static float[] vector(GgufFile f, String name, int length) {
        WeightMatrix m = require(f, name);
        if ((long) m.rows() * m.cols() != length) {
            throw new PagodaException(f.path() + ": tensor " + name + " has " + (long) m.rows() * m.cols() + " elements, expected " + length);
        }
        return Weights.vector(m);
    }

    private static WeightMatrix require(GgufFile f, String name) {
        if (f.tensorInfo(name) == null) {
            throw new PagodaException(f.path() + ": missing tensor " + name);
        }
        return f.tensor(name);
    }

    private static WeightMatrix shaped(GgufFile f, String name, int rows, int cols) {
        WeightMatrix m = require(f, name);
        if (m.rows() != rows || m.cols() != cols) {
            throw new PagodaException(f.path() + ": tensor " + name + " is " + m.rows() + "x" + m.cols() + ", expected " + rows + "x" + cols);
        }
        return m;
    }

    private static String baseName(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(".gguf") ? n.substring(0, n.length() - 5) : n;
    }
}
