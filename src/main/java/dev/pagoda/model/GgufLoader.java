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
 * Llama-family models in GGUF (architectures "llama": Llama 2/3, Mistral, TinyLlama, SmolLM; and
 * "qwen2", which adds q/k/v biases). llama.cpp's converters store llama q/k rows in the interleaved
 * RoPE order; qwen2 keeps the half-split ("neox") order.
 */
final class GgufLoader {
    private GgufLoader() {
    }

    static Model load(Path path) {
        GgufFile f = GgufFile.open(path);
        try {
            String arch = f.getString("general.architecture");
            RopeStyle rope = switch (arch) {
                case "llama" -> RopeStyle.INTERLEAVED;
                case "qwen2" -> RopeStyle.HALF;
                default -> throw new PagodaException(path + ": unknown architecture '" + arch + "' (supported: llama, qwen2)");
            };
            WeightMatrix embedding = require(f, "token_embd.weight");
            int dim = f.getInt(arch + ".embedding_length");
            int heads = f.getInt(arch + ".attention.head_count");
            int headDim = f.getInt(arch + ".attention.key_length", dim / heads);
            ModelConfig config = new ModelConfig(arch, dim,
                    f.getInt(arch + ".feed_forward_length"),
                    f.getInt(arch + ".block_count"),
                    heads,
                    f.getInt(arch + ".attention.head_count_kv", heads),
                    headDim,
                    embedding.rows(),
                    f.getInt(arch + ".context_length"),
                    f.getFloat(arch + ".attention.layer_norm_rms_epsilon", 1e-5f),
                    f.getFloat(arch + ".rope.freq_base", 10000f),
                    rope);
            if (embedding.cols() != dim) {
                throw new PagodaException(path + ": token_embd.weight has rows of " + embedding.cols() + ", embedding_length is " + dim);
            }
            List<LayerWeights> layers = new ArrayList<>();
            for (int l = 0; l < config.layers(); l++) {
                String p = "blk." + l + ".";
                boolean bias = f.tensorInfo(p + "attn_q.bias") != null;
                layers.add(new LayerWeights(
                        Weights.vector(require(f, p + "attn_norm.weight")),
                        shaped(f, p + "attn_q.weight", config.qDim(), dim),
                        shaped(f, p + "attn_k.weight", config.kvDim(), dim),
                        shaped(f, p + "attn_v.weight", config.kvDim(), dim),
                        shaped(f, p + "attn_output.weight", dim, config.qDim()),
                        bias ? Weights.vector(require(f, p + "attn_q.bias")) : null,
                        bias ? Weights.vector(require(f, p + "attn_k.bias")) : null,
                        bias ? Weights.vector(require(f, p + "attn_v.bias")) : null,
                        Weights.vector(require(f, p + "ffn_norm.weight")),
                        shaped(f, p + "ffn_gate.weight", config.hiddenDim(), dim),
                        shaped(f, p + "ffn_down.weight", dim, config.hiddenDim()),
                        shaped(f, p + "ffn_up.weight", config.hiddenDim(), dim)));
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
