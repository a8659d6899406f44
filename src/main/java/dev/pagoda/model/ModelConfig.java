package dev.pagoda.model;

import dev.pagoda.PagodaException;
import dev.pagoda.kernel.RopeStyle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The shape and hyper-parameters of a decoder of the Llama family, whatever file it came from. The architectures
 * differ only by the small options here and by which optional weights a {@link LayerWeights} carries (biases,
 * q/k norms, post-norms), so one forward pass serves them all.
 *
 * @param architecture   "llama", "qwen2", "qwen3", "gemma2", "gemma3" or "phi3"
 * @param rope           the model's main rotary embedding (a layer may use its own, see {@link LayerAttention#rope})
 * @param attention      per layer: sliding window, score scale and soft-cap, rope
 * @param activation     the gated feed-forward's activation
 * @param embeddingScale token embeddings are multiplied by this (Gemma: sqrt(dim); otherwise 1)
 * @param finalSoftCap   logits become {@code cap * tanh(logit / cap)} (Gemma 2); 0: none
 */
public record ModelConfig(
        String architecture,
        int dim,
        int hiddenDim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int vocabSize,
        int contextLength,
        float normEps,
        Rope rope,
        List<LayerAttention> attention,
        Activation activation,
        float embeddingScale,
        float finalSoftCap) {

    public ModelConfig {
        if (dim <= 0 || hiddenDim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0
                || vocabSize <= 0 || contextLength <= 0) {
            throw new PagodaException("model shape has a non-positive size: " + shapeString(dim, hiddenDim, layers, heads, kvHeads, headDim, vocabSize, contextLength));
        }
        if (heads % kvHeads != 0) {
            throw new PagodaException("model has " + heads + " attention heads, not a multiple of its " + kvHeads + " key/value heads");
        }
        if (headDim % 2 != 0) {
            throw new PagodaException("model head size " + headDim + " is odd; RoPE needs pairs");
        }
        if (attention.size() != layers) {
            throw new IllegalArgumentException(attention.size() + " layer attention options for " + layers + " layers");
        }
        attention = List.copyOf(attention);
    }

    /** A Llama: every layer attends globally with the model's rope; SiLU; no embedding scale or soft-cap. */
    public ModelConfig(String architecture, int dim, int hiddenDim, int layers, int heads, int kvHeads, int headDim,
                       int vocabSize, int contextLength, float normEps, float ropeTheta, RopeStyle ropeStyle) {
        this(architecture, dim, hiddenDim, layers, heads, kvHeads, headDim, vocabSize, contextLength, normEps,
                Rope.plain(ropeTheta, ropeStyle), uniform(layers, LayerAttention.global(headDim, Rope.plain(ropeTheta, ropeStyle))),
                Activation.SILU, 1f, 0f);
    }

    static List<LayerAttention> uniform(int layers, LayerAttention a) {
        return new ArrayList<>(Collections.nCopies(layers, a));
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public LayerAttention attention(int layer) {
        return attention.get(layer);
    }

    /** The largest sliding window of any layer, or 0 when some layer attends to the whole context. */
    public int maxWindow() {
        int max = 0;
        for (LayerAttention a : attention) {
            if (!a.sliding()) {
                return 0;
            }
            max = Math.max(max, a.window());
        }
        return max;
    }

    /** What sets this architecture apart from a plain Llama, for {@code pagoda info}; empty for a plain Llama. */
    public List<String> features() {
        List<String> f = new ArrayList<>();
        long sliding = attention.stream().filter(LayerAttention::sliding).count();
        if (sliding > 0) {
            f.add("sliding window " + attention.stream().filter(LayerAttention::sliding).mapToInt(LayerAttention::window).max().orElse(0)
                    + (sliding == layers ? " on every layer" : " on " + sliding + " of " + layers + " layers"));
        }
        if (attention.stream().anyMatch(a -> a.softCap() > 0)) {
            f.add("attention soft-cap " + attention.get(0).softCap());
        }
        if (finalSoftCap > 0) {
            f.add("final logit soft-cap " + finalSoftCap);
        }
        float plainScale = (float) (1 / Math.sqrt(headDim));
        if (attention.stream().anyMatch(a -> a.scale() != plainScale)) {
            f.add("query scale " + attention.get(0).scale());
        }
        if (attention.stream().anyMatch(a -> !a.rope().equals(rope))) {
            f.add("sliding-window layers' rope: " + attention.stream().filter(a -> !a.rope().equals(rope)).findFirst().orElseThrow().rope());
        }
        if (embeddingScale != 1f) {
            f.add("embeddings x" + embeddingScale);
        }
        if (activation != Activation.SILU) {
            f.add(activation.name().toLowerCase() + " feed-forward");
        }
        return f;
    }

    private static String shapeString(int dim, int hidden, int layers, int heads, int kvHeads, int headDim, int vocab, int ctx) {
        return "dim " + dim + ", ffn " + hidden + ", layers " + layers + ", heads " + heads + "/" + kvHeads
                + ", head size " + headDim + ", vocab " + vocab + ", context " + ctx;
    }

    @Override
    public String toString() {
        return architecture + " (" + shapeString(dim, hiddenDim, layers, heads, kvHeads, headDim, vocabSize, contextLength)
                + ", norm eps " + normEps + ", rope " + rope + ")";
    }
}
