package dev.pagoda.attention;

import dev.pagoda.kernel.RangeTask;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.model.AttentionBackend;
import dev.pagoda.model.ForwardBatch;
import dev.pagoda.model.LayerAttention;

/**
 * Plugs the PagedAttention kernel into the model: the forward batch's sequences are KV sequences; per
 * layer, new K/V go to their slots and the (token, kv head) items are spread over the worker pool.
 */
public final class PagedAttentionBackend implements AttentionBackend<KvSequence> {
    private final PagedAttention kernel;
    private final WorkerPool pool;
    private final RangeTask task = this::runRange;
    /** Multiply-adds of one (row, kv head) item per position attended: a score and a V row for each query head of the group. */
    private final long workPerPosition;
    private int layer;
    private LayerAttention how;
    private ForwardBatch<KvSequence> batch;
    private float[] q;
    private float[] out;

    public PagedAttentionBackend(KvMemory memory, int heads, WorkerPool pool) {
        this.kernel = new PagedAttention(memory, heads);
        this.workPerPosition = 2L * memory.shape().headDim() * heads / memory.shape().kvHeads();
        this.pool = pool;
    }

    @Override
    public void attend(int layer, LayerAttention how, ForwardBatch<KvSequence> batch, float[] q, float[] k, float[] v, float[] out) {
        kernel.writeKv(layer, batch, k, v);
        this.batch = batch;
        this.layer = layer;
        this.how = how;
        this.q = q;
        this.out = out;
        int items = kernel.workItems(batch);
        if (items * batch.maxContext() * workPerPosition < WorkerPool.INLINE_WORK) {
            runRange(0, items);
        } else {
            pool.parallelFor(items, task);
        }
    }

    private void runRange(int start, int end) {
        kernel.run(layer, how, batch, q, out, start, end);
    }
}
