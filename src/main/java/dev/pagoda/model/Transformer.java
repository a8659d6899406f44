package dev.pagoda.model;

import dev.pagoda.kernel.MatMul;
import dev.pagoda.kernel.Dequant;
import dev.pagoda.kernel.Ops;
import dev.pagoda.kernel.RopeTable;
import dev.pagoda.kernel.WeightMatrix;
import java.util.HashMap;
import java.util.Map;

/**
 * The Llama-family decoder forward pass over a flattened batch of tokens (any mix of sequences, prefill chunks
 * and decode tokens). Architectures differ by the options of {@link ModelConfig} and the optional weights of
 * {@link LayerWeights}: q/k/v biases, per-head q/k norms, norms on the attention and feed-forward outputs,
 * embedding scale, activation, sliding windows and soft-caps. Linear layers run as matrix-matrix products over all tokens of the step, so each
 * weight is streamed from memory once per step. Scratch buffers are sized once for the batch capacity:
 * nothing is allocated per token.
 */
public final class Transformer {
    private final ModelConfig c;
    private final ModelWeights w;
    /** Per layer; layers with equal {@link Rope}s share a table. */
    private final RopeTable[] rope;
    private final float[] x, xb, q, k, v, att, hb, hb2, logitIn;

    public Transformer(Model model, int maxBatchTokens) {
        this.c = model.config();
        this.w = model.weights().forKernels();
        Map<Rope, RopeTable> tables = new HashMap<>();
        this.rope = new RopeTable[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            rope[l] = tables.computeIfAbsent(c.attention(l).rope(), r -> r.table(c.headDim(), c.contextLength()));
        }
        x = new float[maxBatchTokens * c.dim()];
        xb = new float[maxBatchTokens * Math.max(c.dim(), c.qDim())];
        q = new float[maxBatchTokens * c.qDim()];
        k = new float[maxBatchTokens * c.kvDim()];
        v = new float[maxBatchTokens * c.kvDim()];
        att = new float[maxBatchTokens * c.qDim()];
        hb = new float[maxBatchTokens * c.hiddenDim()];
        hb2 = new float[maxBatchTokens * c.hiddenDim()];
        logitIn = new float[maxBatchTokens * c.dim()];
    }

    public ModelConfig config() {
        return c;
    }

    /**
     * Runs the batch through every layer. Logits of batch.logitTokens[i] go to
     * logits[i * vocab, (i+1) * vocab).
     */
    public <S> void forward(ForwardBatch<S> batch, AttentionBackend<S> attention, float[] logits) {
        final int n = batch.tokenCount();
        final int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), hidden = c.hiddenDim();
        for (int t = 0; t < n; t++) {
            int tok = batch.tokens[t];
            if (tok < 0 || tok >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + tok + " outside the vocabulary of " + c.vocabSize());
            }
            Dequant.row(w.tokenEmbedding(), tok, x, t * dim);
        }
        if (c.embeddingScale() != 1f) {
            Ops.scale(x, 0, n * dim, c.embeddingScale());
        }
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights lw = w.layers().get(l);
            LayerAttention how = c.attention(l);
            for (int t = 0; t < n; t++) {
                Ops.rmsnorm(xb, t * dim, x, t * dim, lw.attnNorm(), dim, c.normEps());
            }
            MatMul.matmul(lw.wq(), xb, 0, n, q, 0);
            MatMul.matmul(lw.wk(), xb, 0, n, k, 0);
            MatMul.matmul(lw.wv(), xb, 0, n, v, 0);
            if (lw.bq() != null) {
                addBias(q, lw.bq(), n);
                addBias(k, lw.bk(), n);
                addBias(v, lw.bv(), n);
            }
            if (lw.qNorm() != null) {
                headNorm(q, n * c.heads(), lw.qNorm());
                headNorm(k, n * c.kvHeads(), lw.kNorm());
            }
            for (int t = 0; t < n; t++) {
                int pos = batch.positions[t];
                rope[l].apply(q, t * qDim, c.heads(), c.headDim(), pos, how.rope().style());
                rope[l].apply(k, t * kvDim, c.kvHeads(), c.headDim(), pos, how.rope().style());
            }
            attention.attend(l, how, batch, q, k, v, att);
            MatMul.matmul(lw.wo(), att, 0, n, xb, 0);
            if (lw.postAttnNorm() != null) {
                rowNorm(xb, n, lw.postAttnNorm());
            }
            Ops.add(x, 0, xb, 0, n * dim);
            for (int t = 0; t < n; t++) {
                Ops.rmsnorm(xb, t * dim, x, t * dim, lw.ffnNorm(), dim, c.normEps());
            }
            MatMul.matmul(lw.gate(), xb, 0, n, hb, 0);
            MatMul.matmul(lw.up(), xb, 0, n, hb2, 0);
            switch (c.activation()) {
                case SILU -> Ops.siluMul(hb, 0, hb2, 0, n * hidden);
                case GELU_TANH -> Ops.geluTanhMul(hb, 0, hb2, 0, n * hidden);
            }
            MatMul.matmul(lw.down(), hb, 0, n, xb, 0);
            if (lw.postFfnNorm() != null) {
                rowNorm(xb, n, lw.postFfnNorm());
            }
            Ops.add(x, 0, xb, 0, n * dim);
        }
        int m = batch.logitCount();
        for (int i = 0; i < m; i++) {
            int t = batch.logitTokens[i];
            Ops.rmsnorm(logitIn, i * dim, x, t * dim, w.finalNorm(), dim, c.normEps());
        }
        if (m > 0) {
            MatMul.matmul(w.output(), logitIn, 0, m, logits, 0);
            if (c.finalSoftCap() > 0) {
                Ops.softCap(logits, 0, m * c.vocabSize(), c.finalSoftCap());
            }
        }
    }

    /** RMSNorm of each of n rows of dim floats, in place. */
    private void rowNorm(float[] rows, int n, float[] weight) {
        for (int t = 0; t < n; t++) {
            Ops.rmsnorm(rows, t * c.dim(), rows, t * c.dim(), weight, c.dim(), c.normEps());
        }
    }

    /** RMSNorm of each of {@code heads} consecutive heads of headDim floats, in place (Qwen3's and Gemma 3's q/k norms). */
    private void headNorm(float[] rows, int heads, float[] weight) {
        for (int h = 0; h < heads; h++) {
            Ops.rmsnorm(rows, h * c.headDim(), rows, h * c.headDim(), weight, c.headDim(), c.normEps());
        }
    }

    private static void addBias(float[] rows, float[] bias, int n) {
        for (int t = 0; t < n; t++) {
            Ops.add(rows, t * bias.length, bias, 0, bias.length);
        }
    }

    /** Bytes of weights one forward step streams (all matrices once, embedding rows aside). */
    public static long streamedBytes(ModelWeights w) {
        long b = 0;
        for (LayerWeights l : w.layers()) {
            for (WeightMatrix m : new WeightMatrix[] {l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.down(), l.up()}) {
                b += m.byteSize();
            }
        }
        return b + w.output().byteSize();
    }
}
