package dev.pagoda.attention;

import dev.pagoda.kernel.RangeTask;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.model.AttentionBackend;
import dev.pagoda.model.ForwardBatch;

/**
 * Plugs the PagedAttention kernel into the model: the forward batch's sequences are KV sequences; per
 * layer, new K/V go to their slots and the (token, head) items are spread over the worker pool.
 */
public final class PagedAttentionBackend implements AttentionBackend<KvSequence> {
    private final PagedAttention kernel;
    private final WorkerPool pool;
    private final RangeTask task = this::runRange;
    private final int headDim;
    private int layer;
    private ForwardBatch<KvSequence> batch;
    private float[] q;
    private float[] out;

    public PagedAttentionBackend(KvMemory memory, int heads, WorkerPool pool) {
        this.kernel = new PagedAttention(memory, heads);
        this.headDim = memory.shape().headDim();
        this.pool = pool;
    }

    @Override
    public void attend(int layer, ForwardBatch<KvSequence> batch, float[] q, float[] k, float[] v, float[] out) {
        kernel.writeKv(layer, batch, k, v);
        this.batch = batch;
        this.layer = layer;
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
        kernel.run(layer, batch, q, out, start, end);
    }
}
