package dev.pagoda.attention;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;

import dev.pagoda.kernel.VectorMath;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.model.ForwardBatch;
import dev.pagoda.model.LayerAttention;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

/**
 * The PagedAttention kernel for one layer: each query row attends to its own sequence's K/V at positions
 * 0..its position (only the last W of them in a sliding-window layer), reading them through the sequence's slot
 * addressing (paged block table or contiguous run, see {@link KvSequence}). Grouped-query attention: query heads
 * h = g * group .. g * group + group - 1 share kv head g, and are computed together, so that each K and V row is
 * read once for the whole group. Scores are scaled and optionally soft-capped as the layer's {@link LayerAttention}
 * says; softmax in float with max subtraction.
 *
 * <p>Work is split into items (row, kv head), item = row * nKvHeads + kvHead; {@link #run} computes a range of
 * items, so a worker pool can call it in parallel ({@code parallelFor(workItems(b), (s, e) -> run(..., s, e))}).
 * Each item is computed alone, positions in increasing order with a fixed reduction order, so its result does not
 * depend on the rest of the batch or on how items are split across threads (batch invariance).
 *
 * <p>A head row is read as {@code ceil(headDim / L)} vectors, lanes past the row zeroed, so a head smaller than a
 * vector (stories260K's 8 floats) still takes vector loads. A score is one vector accumulator over the
 * row's vectors, folded by {@link VectorMath#sum}; a head of 2, 4 or 8 floats narrower than a vector scores
 * L / headDim adjacent rows per load, each folded within its lanes by the same tree (the same bits). Exponentials are {@link Math#exp}, one call per score (the same
 * function {@code Ops.softmax} uses).
 *
 * <p>A batch row t is the token at {@code positions[t]} of its sequence; its new K/V go to that position's slot.
 * Scratch (scores, accumulators, the runs of adjacent rows) is per thread and reused: nothing is allocated per
 * call once warm.
 *
 * <p>Rows: q and out hold {@code nHeads * headDim} floats per row; k and v {@code nKvHeads * headDim}.
 */
public final class PagedAttention {
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Lane j <- lane j xor d: folds that stay inside aligned groups of 2d lanes (static, so C2 sees constants). */
    private static final VectorShuffle<Float> XOR_4 = VectorShuffle.fromOp(F, j -> (j ^ 4) & (L - 1));
    private static final VectorShuffle<Float> XOR_2 = VectorShuffle.fromOp(F, j -> (j ^ 2) & (L - 1));
    private static final VectorShuffle<Float> XOR_1 = VectorShuffle.fromOp(F, j -> (j ^ 1) & (L - 1));

    private final KvMemory memory;
    private final MemorySegment segment;
    private final int nHeads;
    private final int nKvHeads;
    private final int headDim;
    private final int group;
    private final int blockSize;
    private final long rowBytes;
    /** Bytes between adjacent rows where the kernel reads them (the cache's f32 rows, or rows decoded to f32). */
    private final long rowStride;
    /** Bytes from a slot's K row to its V row (same layer and kv head). */
    private final long vDelta;
    /** Vectors per head row; rows in scratch are padded to {@code padded} floats. */
    private final int chunks;
    private final int padded;
    /** The lanes of a row's last vector that lie past the row. */
    private final VectorMask<Float> pastRow;
    private final boolean f32;
    /**
     * K rows scored per vector: L / headDim for a head of 2, 4 or 8 floats narrower than a vector (stories260K's 8
     * in 16 lanes), else 1. Adjacent rows are adjacent floats, so one load takes several rows.
     */
    private final int rowsPerVector;
    private final ThreadLocal<Scratch> scratch;

    /**
     * One thread's working arrays. {@code scores} holds the group's scores (head e at e * stride) and grows to the
     * longest context seen; runs describe an item's positions as stretches of adjacent rows.
     */
    private final class Scratch {
        float[] scores = new float[0];
        int stride;
        final float[] q = new float[group * padded];
        /** Head e's query repeated rowsPerVector times (L floats at e * L), when several rows share a vector. */
        final float[] qRepeated = new float[group * L];
        final float[] lanes = new float[L];
        final float[] acc = new float[group * padded];
        final float[] max = new float[group];
        final float[] sum = new float[group];
        int[] runStart = new int[0];
        int[] runLength = new int[0];
        long[] runOffset = new long[0];
        /** f16/bf16: a run's rows decoded to float32 (headDim floats apart), read as the f32 rows are. */
        final MemorySegment rows = f32 ? MemorySegment.NULL : Arena.ofAuto().allocate(4L * (blockSize * headDim + L), 64);
        final float[] rowFloats = f32 ? null : new float[headDim];

        void ensure(int context) {
            if (stride < context) {
                stride = context;
                scores = new float[group * context];
            }
            int runs = 2 * (context / blockSize + 1);  // a logical block is at most two physical stretches
            if (runStart.length < runs) {
                runStart = new int[runs];
                runLength = new int[runs];
                runOffset = new long[runs];
            }
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
        this.vDelta = memory.rowOffset(0, 0, 0, KvMemory.V, 0) - memory.rowOffset(0, 0, 0, KvMemory.K, 0);
        this.chunks = (headDim + L - 1) / L;
        this.padded = chunks * L;
        this.pastRow = F.indexInRange(padded - L, headDim).not();
        this.f32 = memory.shape().dtype() == KvDtype.F32;
        this.rowStride = 4L * headDim;
        this.rowsPerVector = headDim < L && (headDim == 2 || headDim == 4 || headDim == 8) ? L / headDim : 1;
        this.scratch = ThreadLocal.withInitial(Scratch::new);
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

    /** Items to pass to {@link #run}: one per (row, kv head). */
    public int workItems(ForwardBatch<KvSequence> batch) {
        return batch.tokenCount() * nKvHeads;
    }

    /** All items on the calling thread. */
    public void forward(int layer, LayerAttention how, ForwardBatch<KvSequence> batch, float[] q, float[] out) {
        run(layer, how, batch, q, out, 0, workItems(batch));
    }

    /** Computes items {@code start..end-1} (item = row * nKvHeads + kv head) into {@code out}. */
    public void run(int layer, LayerAttention how, ForwardBatch<KvSequence> batch, float[] q, float[] out, int start, int end) {
        Scratch s = scratch.get();
        s.ensure(batch.maxContext());
        for (int item = start; item < end; item++) {
            int t = item / nKvHeads;
            int g = item % nKvHeads;
            int pos = batch.positions[t];
            attend(s, layer, how, batch.sequence(batch.tokenSeq[t]), how.firstVisible(pos), pos + 1, g, q,
                    (t * nHeads + g * group) * headDim, out);
        }
    }

    /**
     * Query heads g * group.. (their rows at q[qOff..], group * headDim floats) attend to positions
     * {@code from..context-1} of kv head g.
     */
    private void attend(Scratch s, int layer, LayerAttention how, KvSequence seq, int from, int context, int g, float[] q, int qOff,
                        float[] out) {
        int runs = runs(s, seq, layer, g, from, context);
        Arrays.fill(s.q, 0f);
        for (int e = 0; e < group; e++) {
            System.arraycopy(q, qOff + e * headDim, s.q, e * padded, headDim);
            for (int r = 0; r < rowsPerVector && rowsPerVector > 1; r++) {
                System.arraycopy(q, qOff + e * headDim, s.qRepeated, e * L + r * headDim, headDim);
            }
        }
        // Pass 1: scores of positions from..context-1; head e's at scores[e * stride + p - from].
        Arrays.fill(s.max, Float.NEGATIVE_INFINITY);
        for (int r = 0; r < runs; r++) {
            MemorySegment src = rows(s, s.runOffset[r], s.runLength[r]);
            long at = f32 ? s.runOffset[r] : 0;
            for (int e = 0; e < group; e++) {
                scoreRun(s, e, src, at, s.runLength[r], s.runStart[r] - from, how.scale(), how.softCap());
            }
        }
        int n = context - from;
        for (int e = 0; e < group; e++) {
            int base = e * s.stride;
            float max = s.max[e], sum = 0;
            for (int i = base; i < base + n; i++) {
                float x = (float) Math.exp(s.scores[i] - max);
                s.scores[i] = x;
                sum += x;
            }
            s.sum[e] = sum;
        }
        // Pass 2: probability-weighted sum of V rows, in the same position order.
        Arrays.fill(s.acc, 0f);
        for (int r = 0; r < runs; r++) {
            MemorySegment src = rows(s, s.runOffset[r] + vDelta, s.runLength[r]);
            long at = f32 ? s.runOffset[r] + vDelta : 0;
            for (int c = 0; c < chunks; c++) {
                for (int e = 0; e < group; e++) {
                    accumulateRun(s, e, c, src, at, s.runLength[r], s.runStart[r] - from);
                }
            }
        }
        for (int e = 0; e < group; e++) {
            float inv = 1f / s.sum[e];
            for (int d = 0; d < headDim; d++) {
                out[qOff + e * headDim + d] = s.acc[e * padded + d] * inv;
            }
        }
    }

    /**
     * Splits positions from..context-1 into runs of adjacent K rows (one physical block each: a contiguous run's
     * logical block may straddle two physical blocks); returns their number.
     */
    private int runs(Scratch s, KvSequence seq, int layer, int g, int from, int context) {
        int runs = 0;
        for (int p = from; p < context; ) {
            int j = p / blockSize;
            int slot = seq.blockSlotStart(j) + p - j * blockSize;
            int n = Math.min(Math.min(context, (j + 1) * blockSize) - p, blockSize - slot % blockSize);
            s.runStart[runs] = p;
            s.runLength[runs] = n;
            s.runOffset[runs++] = memory.rowOffset(slot / blockSize, slot % blockSize, layer, KvMemory.K, g);
            p += n;
        }
        return runs;
    }

    /**
     * The segment to read {@code n} adjacent rows at {@code at} from: the cache itself in f32, else the rows decoded
     * into scratch (from offset 0). A run's rows stay in the L1 cache while the group's heads read them in turn.
     */
    private MemorySegment rows(Scratch s, long at, int n) {
        if (f32) {
            return segment;
        }
        for (int i = 0; i < n; i++) {
            memory.shape().dtype().load(segment, at + i * rowBytes, s.rowFloats, 0, headDim);
            MemorySegment.copy(s.rowFloats, 0, s.rows, ValueLayout.JAVA_FLOAT, i * 4L * headDim, headDim);
        }
        return s.rows;
    }

    /** Head e's scores against {@code n} K rows from {@code src[at..]} (positions p.. from the first visible). */
    private void scoreRun(Scratch s, int e, MemorySegment src, long at, int n, int p, float scale, float cap) {
        float[] q = s.q;
        float[] scores = s.scores;
        int qb = e * padded, out = e * s.stride + p;
        float max = s.max[e];
        if (rowsPerVector > 1) {
            // rowsPerVector rows per load (the last load of a run masked to its rows); each row's products folded
            // within its own lanes by the same pairwise tree as VectorMath.sum over a row padded with zeros, so the
            // scores are the same bits as one row at a time. No vector is passed to a call (see VectorMath).
            FloatVector qq = FloatVector.fromArray(F, s.qRepeated, e * L);
            for (int i = 0; i < n; i += rowsPerVector, at += rowsPerVector * rowStride) {
                int rows = Math.min(rowsPerVector, n - i);
                FloatVector k = rows == rowsPerVector ? FloatVector.fromMemorySegment(F, src, at, ORDER)
                        : FloatVector.fromMemorySegment(F, src, at, ORDER, F.indexInRange(0, rows * headDim));
                FloatVector a = qq.fma(k, FloatVector.zero(F));
                if (headDim == 8) {
                    a = a.add(a.rearrange(XOR_4));
                }
                if (headDim >= 4) {
                    a = a.add(a.rearrange(XOR_2));
                }
                a = a.add(a.rearrange(XOR_1));
                a.intoArray(s.lanes, 0);
                for (int r = 0; r < rows; r++) {
                    float x = s.lanes[r * headDim] * scale;
                    if (cap > 0) {
                        x = cap * (float) StrictMath.tanh(x / cap);
                    }
                    scores[out + i + r] = x;
                    max = Math.max(max, x);
                }
            }
            s.max[e] = max;
            return;
        }
        for (int i = 0; i < n; i++, at += rowStride) {
            FloatVector a = FloatVector.zero(F);
            for (int c = 0; c < chunks; c++) {
                a = FloatVector.fromArray(F, q, qb + c * L).fma(chunk(src, at, c), a);
            }
            float x = VectorMath.sum(a) * scale;
            if (cap > 0) {
                x = cap * (float) StrictMath.tanh(x / cap);
            }
            scores[out + i] = x;
            max = Math.max(max, x);
        }
        s.max[e] = max;
    }

    /**
     * Vector c of head e's accumulator += weight(e, p + i) * vector c of V row i, over {@code n} rows from
     * {@code src[at..]}: the accumulator stays in a register over the run.
     */
    private void accumulateRun(Scratch s, int e, int c, MemorySegment src, long at, int n, int p) {
        float[] w = s.scores;
        int wb = e * s.stride + p, a = e * padded + c * L;
        FloatVector acc = FloatVector.fromArray(F, s.acc, a);
        for (int i = 0; i < n; i++, at += rowStride) {
            acc = chunk(src, at, c).fma(FloatVector.broadcast(F, w[wb + i]), acc);
        }
        acc.intoArray(s.acc, a);
    }

    /**
     * Vector c of the row at {@code src[at..]}, lanes past the row zero. The last vector of a row is read whole and
     * its extra lanes (the next row's) replaced by zeros: a masked load with a mask that is not a constant costs
     * several times more. Only a read that would pass the end of the segment takes the masked load.
     */
    private FloatVector chunk(MemorySegment src, long at, int c) {
        long o = at + 4L * c * L;
        if (c < chunks - 1) {
            return FloatVector.fromMemorySegment(F, src, o, ORDER);
        }
        if (o + 4L * L <= src.byteSize()) {
            return FloatVector.fromMemorySegment(F, src, o, ORDER).blend(0f, pastRow);
        }
        return FloatVector.fromMemorySegment(F, src, o, ORDER, pastRow.not());
    }
}
