package dev.pagoda.attention;

import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.model.ForwardBatch;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The PagedAttention kernel for one layer: each query row attends to its own sequence's K/V at positions
 * 0..its position, reading them through the sequence's slot addressing (paged block table or contiguous run,
 * see {@link KvSequence}). Grouped-query attention: query head h reads kv head h / (nHeads / nKvHeads).
 * Scores are scaled by 1/sqrt(headDim); softmax in float with max subtraction ({@code StrictMath.exp}: the same
 * bits interpreted or compiled).
 *
 * <p>Work is split into items (row, head), item = row * nHeads + head; {@link #run} computes a range of items,
 * so a worker pool can call it in parallel ({@code parallelFor(workItems(b), (s, e) -> run(..., s, e))}).
 * Each item is computed alone, positions in increasing order with a fixed reduction order, so its result does not
 * depend on the rest of the batch or on how items are split across threads (batch invariance).
 *
 * <p>A batch row t is the token at {@code positions[t]} of its sequence; its new K/V go to that position's slot.
 * Scratch (scores, accumulators) is per thread and reused: nothing is allocated per call once warm.
 *
 * <p>Rows: q and out hold {@code nHeads * headDim} floats per row; k and v {@code nKvHeads * headDim}.
 */
public final class PagedAttention {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private final KvMemory memory;
    private final MemorySegment segment;
    private final int nHeads;
    private final int nKvHeads;
    private final int headDim;
    private final int group;
    private final int blockSize;
    private final long rowBytes;
    private final boolean f32;
    private final float scale;
    private final ThreadLocal<Scratch> scratch;

    /** One thread's working arrays; {@code scores} grows to the longest context seen. */
    private static final class Scratch {
        float[] scores = new float[0];
        final float[] acc;
        final float[] row;
        final float[] lanes = new float[SPECIES.length()];

        Scratch(int headDim, boolean f32) {
            acc = new float[headDim];
            row = f32 ? null : new float[headDim];
        }
    }

    public PagedAttention(KvMemory memory, int nHeads) {
        this.memory = memory;
        this.segment = memory.segment();
        this.nKvHeads = memory.shape().kvHeads();
        this.headDim = memory.shape().headDim();
        if (nHeads < nKvHeads || nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException(nHeads + " query heads are not a multiple of " + nKvHeads + " kv heads");
        }
        this.nHeads = nHeads;
        this.group = nHeads / nKvHeads;
        this.blockSize = memory.blockSize();
        this.rowBytes = memory.rowBytes();
        this.f32 = memory.shape().dtype() == KvDtype.F32;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(headDim, f32));
    }

    /**
     * Writes each row's new K and V into the slot of its position for {@code layer}. The slots must be allocated
     * ({@code position < seq.length()}): append to the allocator first.
     */
    public void writeKv(int layer, ForwardBatch<KvSequence> batch, float[] k, float[] v) {
        int kvDim = nKvHeads * headDim;
        for (int t = 0; t < batch.tokenCount(); t++) {
            KvSequence seq = batch.sequence(batch.tokenSeq[t]);
            int position = batch.positions[t];
            if (position >= seq.length()) {
                throw new IllegalArgumentException("position " + position + " outside the sequence's " + seq.length() + " allocated tokens");
            }
            int slot = seq.slotFor(position);
            memory.writeToken(layer, KvMemory.K, slot, k, t * kvDim);
            memory.writeToken(layer, KvMemory.V, slot, v, t * kvDim);
        }
    }

    /** Items to pass to {@link #run}: one per (row, query head). */
    public int workItems(ForwardBatch<KvSequence> batch) {
        return batch.tokenCount() * nHeads;
    }

    /** All items on the calling thread. */
    public void forward(int layer, ForwardBatch<KvSequence> batch, float[] q, float[] out) {
        run(layer, batch, q, out, 0, workItems(batch));
    }

    /** Computes items {@code start..end-1} (item = row * nHeads + head) into {@code out}. */
    public void run(int layer, ForwardBatch<KvSequence> batch, float[] q, float[] out, int start, int end) {
        Scratch s = scratch.get();
        if (s.scores.length < batch.maxContext()) {
            s.scores = new float[batch.maxContext()];
        }
        for (int item = start; item < end; item++) {
            int t = item / nHeads;
            int h = item % nHeads;
            attend(layer, batch.sequence(batch.tokenSeq[t]), batch.positions[t] + 1, h / group, q, (t * nHeads + h) * headDim,
                    out, s.scores, s.acc, s.row, s.lanes);
        }
    }

    private void attend(int layer, KvSequence seq, int context, int kvHead, float[] q, int qOff, float[] out,
                        float[] scores, float[] acc, float[] row, float[] lanes) {
        // Pass 1: scores of positions 0..context-1, block by block.
        float max = Float.NEGATIVE_INFINITY;
        int p = 0;
        for (int j = 0; p < context; j++) {
            int first = seq.blockSlotStart(j);
            int n = Math.min(blockSize, context - p);
            for (int i = 0; i < n; i++, p++) {
                float s = dot(q, qOff, offset(first + i, layer, KvMemory.K, kvHead), row, lanes) * scale;
                scores[p] = s;
                max = Math.max(max, s);
            }
        }
        float sum = 0;
        for (int i = 0; i < context; i++) {
            float e = (float) StrictMath.exp(scores[i] - max);
            scores[i] = e;
            sum += e;
        }
        // Pass 2: probability-weighted sum of V rows, in the same position order.
        Arrays.fill(acc, 0f);
        p = 0;
        for (int j = 0; p < context; j++) {
            int first = seq.blockSlotStart(j);
            int n = Math.min(blockSize, context - p);
            for (int i = 0; i < n; i++, p++) {
                axpy(scores[p], offset(first + i, layer, KvMemory.V, kvHead), acc, row);
            }
        }
        float inv = 1f / sum;
        for (int d = 0; d < headDim; d++) {
            out[qOff + d] = acc[d] * inv;
        }
    }

    /** Byte offset of a slot's row, per slot: a contiguous run's logical block may straddle two physical blocks. */
    private long offset(int slot, int layer, int kOrV, int kvHead) {
        return memory.rowOffset(slot / blockSize, slot % blockSize, layer, kOrV, kvHead);
    }

    private float dot(float[] q, int qOff, long at, float[] row, float[] lanes) {
        int d = 0;
        float s;
        int bound = SPECIES.loopBound(headDim);
        if (f32) {
            FloatVector a = FloatVector.zero(SPECIES);
            for (; d < bound; d += SPECIES.length()) {
                a = FloatVector.fromArray(SPECIES, q, qOff + d)
                        .fma(FloatVector.fromMemorySegment(SPECIES, segment, at + 4L * d, ORDER), a);
            }
            s = sumLanes(a, lanes);
            for (; d < headDim; d++) {
                s += q[qOff + d] * segment.get(ValueLayout.JAVA_FLOAT, at + 4L * d);
            }
            return s;
        }
        memory.shape().dtype().load(segment, at, row, 0, headDim);
        FloatVector a = FloatVector.zero(SPECIES);
        for (; d < bound; d += SPECIES.length()) {
            a = FloatVector.fromArray(SPECIES, q, qOff + d).fma(FloatVector.fromArray(SPECIES, row, d), a);
        }
        s = sumLanes(a, lanes);
        for (; d < headDim; d++) {
            s += q[qOff + d] * row[d];
        }
        return s;
    }

    /**
     * Sum of the lanes in lane order. Not {@code reduceLanes(ADD)}, whose order is unspecified and differs between
     * the interpreter and compiled code: results must not depend on JIT state.
     */
    private static float sumLanes(FloatVector a, float[] lanes) {
        a.intoArray(lanes, 0);
        float s = 0;
        for (float lane : lanes) {
            s += lane;
        }
        return s;
    }

    /** acc += w * V row. */
    private void axpy(float w, long at, float[] acc, float[] row) {
        int d = 0;
        int bound = SPECIES.loopBound(headDim);
        FloatVector wv = FloatVector.broadcast(SPECIES, w);
        if (f32) {
            for (; d < bound; d += SPECIES.length()) {
                FloatVector.fromMemorySegment(SPECIES, segment, at + 4L * d, ORDER)
                        .fma(wv, FloatVector.fromArray(SPECIES, acc, d)).intoArray(acc, d);
            }
            for (; d < headDim; d++) {
                acc[d] += w * segment.get(ValueLayout.JAVA_FLOAT, at + 4L * d);
            }
            return;
        }
        memory.shape().dtype().load(segment, at, row, 0, headDim);
        for (; d < bound; d += SPECIES.length()) {
            FloatVector.fromArray(SPECIES, row, d).fma(wv, FloatVector.fromArray(SPECIES, acc, d)).intoArray(acc, d);
        }
        for (; d < headDim; d++) {
            acc[d] += w * row[d];
        }
    }
}
