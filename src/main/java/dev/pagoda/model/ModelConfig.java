package dev.pagoda.model;

import dev.pagoda.kernel.RopeStyle;

/**
 * The shape and hyper-parameters of a Llama-family decoder, whatever file it came from.
 *
 * @param architecture  "llama" or "qwen2" (qwen2 adds q/k/v biases)
 * @param ropeStyle     how the q/k projections pair their dimensions for RoPE (interleaved for llama2.c
 *                      and GGUF, half-split for Hugging Face weights)
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
        float ropeTheta,
        RopeStyle ropeStyle) {

    public ModelConfig {
        if (dim <= 0 || hiddenDim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0
                || vocabSize <= 0 || contextLength <= 0) {
            throw new dev.pagoda.PagodaException("model shape has a non-positive size: " + shapeString(dim, hiddenDim, layers, heads, kvHeads, headDim, vocabSize, contextLength));
        }
        if (heads % kvHeads != 0) {
            throw new dev.pagoda.PagodaException("model has " + heads + " attention heads, not a multiple of its " + kvHeads + " key/value heads");
        }
        if (headDim % 2 != 0) {
            throw new dev.pagoda.PagodaException("model head size " + headDim + " is odd; RoPE needs pairs");
        }
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    private static String shapeString(int dim, int hidden, int layers, int heads, int kvHeads, int headDim, int vocab, int ctx) {
        return "dim " + dim + ", ffn " + hidden + ", layers " + layers + ", heads " + heads + "/" + kvHeads
                + ", head size " + headDim + ", vocab " + vocab + ", context " + ctx;
    }

    @Override
    public String toString() {
        return architecture + " (" + shapeString(dim, hiddenDim, layers, heads, kvHeads, headDim, vocabSize, contextLength)
                + ", norm eps " + normEps + ", rope theta " + ropeTheta + ", rope " + ropeStyle.name().toLowerCase() + ")";
    }
}
