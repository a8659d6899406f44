package dev.pagoda.model;

import dev.pagoda.kernel.WeightMatrix;
import java.util.function.UnaryOperator;

/**
 * One decoder layer. Matrices stay memory-mapped; the small 1-D vectors (norm weights, biases) are
 * copied into float arrays at load time. The optional parts are null when the architecture lacks them:
 * q/k/v biases (Qwen2), per-head q/k RMSNorm weights of length headDim (Qwen3, Gemma 3), and the norms applied
 * to the attention and feed-forward outputs before the residual add (Gemma 2/3). Norm weights are stored as the
 * factor they multiply by (Gemma's (1 + w) is folded in at load time).
 * Feed-forward: out = down(act(gate(x)) * up(x)). Fused checkpoints (Phi-3's qkv and gate_up) are split into
 * row ranges of the same memory.
 */
public record LayerWeights(
        float[] attnNorm,
        WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
        float[] bq, float[] bk, float[] bv,
        float[] ffnNorm,
        WeightMatrix gate, WeightMatrix down, WeightMatrix up,
        float[] qNorm, float[] kNorm,
        float[] postAttnNorm, float[] postFfnNorm) {

    /** A Llama layer (optionally with q/k/v biases): no q/k norms, no post-norms. */
    public LayerWeights(float[] attnNorm, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
                        float[] bq, float[] bk, float[] bv, float[] ffnNorm, WeightMatrix gate, WeightMatrix down, WeightMatrix up) {
        this(attnNorm, wq, wk, wv, wo, bq, bk, bv, ffnNorm, gate, down, up, null, null, null, null);
    }

    /** Elements of the 1-D vectors (norms and biases), for parameter counts. */
    public long vectorParameters() {
        long n = 0;
        for (float[] v : new float[][] {attnNorm, bq, bk, bv, ffnNorm, qNorm, kNorm, postAttnNorm, postFfnNorm}) {
            n += v == null ? 0 : v.length;
        }
        return n;
    }

    /** This layer with {@code f} applied to each matrix (e.g. {@code Repack::forKernels}). */
    public LayerWeights withMatrices(UnaryOperator<WeightMatrix> f) {
        return new LayerWeights(attnNorm, f.apply(wq), f.apply(wk), f.apply(wv), f.apply(wo), bq, bk, bv, ffnNorm,
                f.apply(gate), f.apply(down), f.apply(up), qNorm, kNorm, postAttnNorm, postFfnNorm);
    }
}
