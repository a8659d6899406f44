package dev.pagoda.model;

import dev.pagoda.kernel.WeightMatrix;

/**
 * One decoder layer. Matrices stay memory-mapped; the small 1-D vectors (norm weights, biases) are
 * copied into float arrays at load time. Biases are null for architectures without them.
 * Feed-forward: out = down(silu(gate(x)) * up(x)).
 */
public record LayerWeights(
        float[] attnNorm,
        WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
        float[] bq, float[] bk, float[] bv,
        float[] ffnNorm,
        WeightMatrix gate, WeightMatrix down, WeightMatrix up) {
}
