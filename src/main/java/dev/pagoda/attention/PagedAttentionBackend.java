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
 * layer, new K/V go to their slots and the (token, kv head) items are spread over the worker pool in contiguous
 * parts, {@link #PARTS_PER_THREAD} a thread, cut where the positions attended (an item's work) reach an equal share:
 * a prefill's last rows attend to many more positions than its first, so equal item counts left one thread with
 * three quarters of a causal chunk; several parts a thread let a thread that started late take fewer. Which thread
 * computes an item never changes its bits.
 */
public final class PagedAttentionBackend implements AttentionBackend<KvSequence> {
    private final PagedAttention kernel;
    private final WorkerPool pool;
    private static final int PARTS_PER_THREAD = 4;
    /**
     * Rows from which the new K/V are written on the pool (a region of their own, before attention reads them): a row's
     * K goes to a block transposed, one float in each of headDim cache lines per kv head, lines not in any cache yet;
     * written on the engine thread alone, a 32-row step's writes kept the worker idle ~5% of the step.
     */
    private static final int PARALLEL_WRITE_ROWS = 8;
    private final RangeTask task = this::runParts;
    private final RangeTask writeRows = this::writeRows;
    /** Part p of the current call is items cuts[p]..cuts[p + 1] - 1. */
    private final int[] cuts;
    /** Multiply-adds of one (row, kv head) item per position attended: a score and a V row for each query head of the group. */
    private final long workPerPosition;
    private int layer;
    private LayerAttention how;
    private ForwardBatch<KvSequence> batch;
    private float[] q;
    private float[] out;
    private float[] k;
    private float[] v;

    public PagedAttentionBackend(KvMemory memory, int heads, WorkerPool pool) {
        this.kernel = new PagedAttention(memory, heads);
        this.workPerPosition = 2L * memory.shape().headDim() * heads / memory.shape().kvHeads();
        this.pool = pool;
        this.cuts = new int[PARTS_PER_THREAD * pool.threads() + 1];
    }

    @Override
    public void attend(int layer, LayerAttention how, ForwardBatch<KvSequence> batch, float[] q, float[] k, float[] v, float[] out) {
        this.batch = batch;
        this.layer = layer;
        this.how = how;
        this.q = q;
        this.out = out;
        this.k = k;
        this.v = v;
        if (batch.tokenCount() < PARALLEL_WRITE_ROWS) {
            kernel.writeKv(layer, batch, k, v);
        } else {
            pool.parallelFor(batch.tokenCount(), writeRows);
        }
        int items = kernel.workItems(batch);
        if (items * batch.maxContext() * workPerPosition < WorkerPool.INLINE_WORK) {
            kernel.run(layer, how, batch, q, out, 0, items);
        } else {
            cut(items);
            pool.parallelFor(cuts.length - 1, task);
        }
    }

    /** Cuts items 0..items-1 into parts of about equal work (positions attended), in order. */
    private void cut(int items) {
        int perRow = items / batch.tokenCount();
        long total = 0;
        for (int t = 0; t < batch.tokenCount(); t++) {
            total += visible(t);
        }
        total *= perRow;
        int parts = cuts.length - 1;
        long done = 0;
        int item = 0;
        for (int p = 1; p < parts; p++) {
            long share = total * p / parts;
            while (item < items && done < share) {
                done += visible(item / perRow);
                item++;
            }
            cuts[p] = item;
        }
        cuts[parts] = items;
    }

    private int visible(int t) {
        int pos = batch.positions[t];
        return pos + 1 - how.firstVisible(pos);
    }

    private void writeRows(int t0, int t1) {
        kernel.writeKv(layer, batch, k, v, t0, t1);
    }

    private void runParts(int start, int end) {
        for (int p = start; p < end; p++) {
            if (cuts[p] < cuts[p + 1]) {
                kernel.run(layer, how, batch, q, out, cuts[p], cuts[p + 1]);
            }
        }
    }
}
