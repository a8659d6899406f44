package dev.pagoda.attention;

import dev.pagoda.kernel.RangeTask;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.model.AttentionBackend;
import dev.pagoda.model.ForwardBatch;
import dev.pagoda.model.LayerAttention;

/**
 * Plugs the PagedAttention kernel into the model: the engine adds each scheduled chunk's KV sequence in
 * the same order as the forward batch; per layer, new K/V go to their slots and the (token, head) items
 * are spread over the worker pool.
 */
public final class PagedAttentionBackend implements AttentionBackend {
    private final PagedAttention kernel;
    private final AttentionBatch batch;
    private final WorkerPool pool;
    private final RangeTask task = this::runRange;
    private final int headDim;
    private int layer;
    private LayerAttention how;
    private float[] q;
    private float[] out;

    public PagedAttentionBackend(KvMemory memory, int heads, WorkerPool pool, int maxTokens, int maxSeqs) {
        this.kernel = new PagedAttention(memory, heads);
        this.headDim = memory.shape().headDim();
        this.batch = new AttentionBatch(maxTokens, maxSeqs);
        this.pool = pool;
    }

    public void clear() {
        batch.clear();
    }

    /** The next chunk: positions first..first+count-1 of seq, whose slots are allocated. */
    public void add(KvSequence seq, int first, int count) {
        batch.add(seq, first, count);
    }

    @Override
    public void attend(int layer, LayerAttention how, ForwardBatch fb, float[] q, float[] k, float[] v, float[] out) {
        if (fb.tokenCount() != batch.numTokens()) {
            throw new IllegalStateException("forward batch has " + fb.tokenCount() + " tokens, attention batch " + batch.numTokens());
        }
        kernel.writeKv(layer, batch, k, v);
        this.layer = layer;
        this.how = how;
        this.q = q;
        this.out = out;
        int items = kernel.workItems(batch);
        if ((long) items * batch.maxContext() * headDim < WorkerPool.INLINE_WORK) {
            runRange(0, items);
        } else {
            pool.parallelFor(items, task);
        }
    }

    private void runRange(int start, int end) {
        kernel.run(layer, how, batch, q, out, start, end);
    }
}
