package dev.pagoda.model;

import dev.pagoda.kernel.MatMul;
import dev.pagoda.kernel.Dequant;
import dev.pagoda.kernel.Ops;
import dev.pagoda.kernel.RangeTask;
import dev.pagoda.kernel.RopeStyle;
import dev.pagoda.kernel.RopeTable;
import dev.pagoda.kernel.WeightMatrix;
import dev.pagoda.kernel.WorkerPool;
import java.util.HashMap;
import java.util.Map;

/**
 * The Llama-family decoder forward pass over a flattened batch of tokens (any mix of sequences, prefill chunks
 * and decode tokens). Architectures differ by the options of {@link ModelConfig} and the optional weights of
 * {@link LayerWeights}: q/k/v biases, per-head q/k norms, norms on the attention and feed-forward outputs,
 * embedding scale, activation, sliding windows and soft-caps. Linear layers run as matrix-matrix products over all tokens of the step, so each
 * weight is streamed from memory once per step. In decode-sized steps q/k/v and gate/up run column-parallel
 * ({@link ColumnParallel}): one handoff to the pool each, the gate's activation inside the gate/up one (on the
 * engine thread alone its exponentials were ~8% of a thread's CPU in a 32-sequence step). Otherwise the per-token
 * work between the matrices (norms, RoPE, the activation) is spread over the pool by tokens when a batch repays the
 * handoff. Each value is computed by the same code whatever the split, so no split changes a bit.
 * Scratch buffers are sized once for the batch capacity: nothing is allocated per token.
 */
public final class Transformer {
    /**
     * Multiply-adds one element of the gate's activation is counted as (an exponential or a tanh), for the choice
     * between the calling thread and the pool.
     */
    private static final int GATE_WORK = 16;
    /**
     * Batches up to this many tokens (decode steps) run q/k/v and gate/up column-parallel: one handoff each, instead
     * of one per matrix and one for the activation. Larger ones (prefill) repay their handoffs and take the matrices
     * whole, which keeps the scratch small.
     */
    private static final int SPLIT_TOKENS = 64;

    private final ModelConfig c;
    private final ModelWeights w;
    /** Per layer; layers with equal {@link Rope}s share a table. */
    private final RopeTable[] rope;
    private final float[] x, xb, q, k, v, att, hb, hb2, logitIn;
    private final WorkerPool pool = WorkerPool.shared();
    private final RangeTask attnNormRows = this::attnNormRows;
    private final RangeTask ffnNormRows = this::ffnNormRows;
    private final RangeTask ropeRows = this::ropeRows;
    private final RangeTask gateRows = this::gateRows;
    /** Per layer, q/k/v and gate/up split over the pool's parts (null entries: not split, see {@link ColumnParallel#of}). */
    private final ColumnParallel[] qkv, gateUp;
    /** The column-parallel blocks of a batch of up to {@link #SPLIT_TOKENS} tokens. */
    private final float[] split;
    private final RangeTask qkvParts = this::qkvParts;
    private final RangeTask gateUpParts = this::gateUpParts;
    private int currentTokens;
    /** The layer and batch the per-token tasks above work on (set by {@link #forward}, cleared after it). */
    private LayerWeights currentLayer;
    private int currentLayerIndex;
    private ForwardBatch<?> currentBatch;

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
        int parts = pool.threads();
        qkv = new ColumnParallel[c.layers()];
        gateUp = new ColumnParallel[c.layers()];
        boolean any = false;
        for (int l = 0; l < c.layers() && parts > 1; l++) {
            LayerWeights lw = w.layers().get(l);
            qkv[l] = ColumnParallel.of(parts, lw.wq(), lw.wk(), lw.wv());
            gateUp[l] = lw.gate().rows() == lw.up().rows() ? ColumnParallel.of(parts, lw.gate(), lw.up()) : null;
            any |= qkv[l] != null || gateUp[l] != null;
        }
        split = new float[any ? Math.min(maxBatchTokens, SPLIT_TOKENS) * Math.max(c.qDim() + 2 * c.kvDim(), 2 * c.hiddenDim()) : 0];
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
        final int dim = c.dim();
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
        currentBatch = batch;
        try {
            for (int l = 0; l < c.layers(); l++) {
                layer(l, batch, attention, n);
            }
        } finally {
            currentBatch = null;
            currentLayer = null;
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

    private <S> void layer(int l, ForwardBatch<S> batch, AttentionBackend<S> attention, int n) {
        final int dim = c.dim(), hidden = c.hiddenDim();
        LayerWeights lw = w.layers().get(l);
        LayerAttention how = c.attention(l);
        currentLayer = lw;
        currentLayerIndex = l;
        perToken(n, dim, attnNormRows);
        currentTokens = n;
        if (splits(qkv[l], n)) {
            pool.parallelFor(qkv[l].parts(), qkvParts);
        } else {
            MatMul.matmul(lw.wq(), xb, 0, n, q, 0);
            MatMul.matmul(lw.wk(), xb, 0, n, k, 0);
            MatMul.matmul(lw.wv(), xb, 0, n, v, 0);
        }
        if (lw.bq() != null) {
            addBias(q, lw.bq(), n);
            addBias(k, lw.bk(), n);
            addBias(v, lw.bv(), n);
        }
        if (lw.qNorm() != null) {
            headNorm(q, n * c.heads(), lw.qNorm());
            headNorm(k, n * c.kvHeads(), lw.kNorm());
        }
        perToken(n, c.qDim() + c.kvDim(), ropeRows);
        attention.attend(l, how, batch, q, k, v, att);
        MatMul.matmul(lw.wo(), att, 0, n, xb, 0);
        if (lw.postAttnNorm() != null) {
            rowNorm(xb, n, lw.postAttnNorm());
        }
        Ops.add(x, 0, xb, 0, n * dim);
        perToken(n, dim, ffnNormRows);
        if (splits(gateUp[l], n)) {
            pool.parallelFor(gateUp[l].parts(), gateUpParts);
        } else {
            MatMul.matmul(lw.gate(), xb, 0, n, hb, 0);
            MatMul.matmul(lw.up(), xb, 0, n, hb2, 0);
            perToken(n, GATE_WORK * hidden, gateRows);
        }
        MatMul.matmul(lw.down(), hb, 0, n, xb, 0);
        if (lw.postFfnNorm() != null) {
            rowNorm(xb, n, lw.postFfnNorm());
        }
        Ops.add(x, 0, xb, 0, n * dim);
    }

    /** Runs {@code task} over tokens [0, n): on the pool when n tokens of {@code workPerToken} repay a handoff. */
    private void perToken(int n, int workPerToken, RangeTask task) {
        if ((long) n * workPerToken < WorkerPool.INLINE_WORK) {
            task.run(0, n);
        } else {
            pool.parallelFor(n, task);
        }
    }

    private void attnNormRows(int t0, int t1) {
        normRows(currentLayer.attnNorm(), t0, t1);
    }

    private void ffnNormRows(int t0, int t1) {
        normRows(currentLayer.ffnNorm(), t0, t1);
    }

    /** xb = RMSNorm(x) for tokens [t0, t1). */
    private void normRows(float[] weight, int t0, int t1) {
        for (int t = t0; t < t1; t++) {
            Ops.rmsnorm(xb, t * c.dim(), x, t * c.dim(), weight, c.dim(), c.normEps());
        }
    }

    private void ropeRows(int t0, int t1) {
        RopeTable table = rope[currentLayerIndex];
        RopeStyle style = c.attention(currentLayerIndex).rope().style();
        for (int t = t0; t < t1; t++) {
            int pos = currentBatch.positions[t];
            table.apply(q, t * c.qDim(), c.heads(), c.headDim(), pos, style);
            table.apply(k, t * c.kvDim(), c.kvHeads(), c.headDim(), pos, style);
        }
    }

    private void gateRows(int t0, int t1) {
        int hidden = c.hiddenDim();
        activate(hb, t0 * hidden, hb2, t0 * hidden, (t1 - t0) * hidden);
    }

    /** gate = activation(gate) * up for count elements. */
    private void activate(float[] gate, int gOff, float[] up, int uOff, int count) {
        switch (c.activation()) {
            case SILU -> Ops.siluMul(gate, gOff, up, uOff, count);
            case GELU_TANH -> Ops.geluTanhMul(gate, gOff, up, uOff, count);
        }
    }

    /** Whether n tokens take the column-parallel path of {@code layers}: split, few enough tokens, work enough for a handoff. */
    private static boolean splits(ColumnParallel layers, int n) {
        return layers != null && n <= SPLIT_TOKENS && n * layers.workPerToken() >= WorkerPool.INLINE_WORK;
    }

    private void qkvParts(int p0, int p1) {
        ColumnParallel layers = qkv[currentLayerIndex];
        int n = currentTokens;
        for (int p = p0; p < p1; p++) {
            layers.multiply(p, xb, n, split);
            layers.scatter(p, 0, n, split, q, c.qDim());
            layers.scatter(p, 1, n, split, k, c.kvDim());
            layers.scatter(p, 2, n, split, v, c.kvDim());
        }
    }

    /** Part p's gate and up rows, then the activation of exactly those features, into hb. */
    private void gateUpParts(int p0, int p1) {
        ColumnParallel layers = gateUp[currentLayerIndex];
        int n = currentTokens;
        for (int p = p0; p < p1; p++) {
            layers.multiply(p, xb, n, split);
            int r = layers.rows(p, 0), g = layers.offset(p, 0, n), u = layers.offset(p, 1, n);
            activate(split, g, split, u, n * r);
            layers.scatter(p, 0, n, split, hb, c.hiddenDim());
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
