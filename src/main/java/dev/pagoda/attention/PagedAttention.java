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
import jdk.incubator.vector.VectorOperators;

/**
 * The PagedAttention kernel for one layer: each query row attends to its own sequence's K/V at positions
 * 0..its position (only the last W of them in a sliding-window layer), reading them through the sequence's slot
 * addressing (paged block table or contiguous run, see {@link KvSequence}). Grouped-query attention: query heads
 * h = g * group .. g * group + group - 1 share kv head g.
 *
 * <p>Work is split into items (row, kv head), item = row * nKvHeads + kvHead; {@link #run} computes a range of
 * items, so a worker pool can call it in parallel ({@code parallelFor(workItems(b), (s, e) -> run(..., s, e))}).
 * Within a range, a lone row's kv heads are computed together (a block's heads lie one after another, so each
 * pass reads one stretch of the cache per block); up to {@link #TILE} adjacent rows of one sequence (a prefill
 * chunk) go together one kv head at a time: each K vector loaded serves every query row of the tile, the blocked
 * form of a matrix product, and the head's K/V and the tile's scores stay in the L2 cache across the passes.
 *
 * <p>Every order depends only on the query's own position (and window), never on the rest of the batch, the
 * tile or chunk it came in or where its K/V rows lie, so a prompt gives the same bits prefilled at once, in
 * chunks or decoded token by token, alone or batched. K is stored transposed ({@link KvMemory}): a score is one
 * FMA chain over the head's dimensions in increasing order, lane by lane (a lane per key), then scaled;
 * softmax takes the max, exponentials by {@link VectorMath#exp} summed in lanes by position then across by
 * {@link VectorMath#sum}; V rows are accumulated in position order.
 *
 * <p>A batch row t is the token at {@code positions[t]} of its sequence; its new K/V go to that position's slot.
 * Scratch (scores, accumulators, the runs of adjacent rows) is per thread and reused: nothing is allocated per
 * call once warm.
 *
 * <p>Rows: q and out hold {@code nHeads * headDim} floats per row; k and v {@code nKvHeads * headDim}.
 */
public final class PagedAttention {
    /** Most rows of one sequence computed together. */
    static final int TILE = 16;
    /** Floats of a tile's scores (one kv head's group): fewer rows per tile for long contexts, so they stay in L2. */
    private static final int SCORE_BUDGET = 1 << 16;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Bytes of K or V read ahead of a pass at a time: well inside L2, so they are still there when the pass comes. */
    private static final long TOUCH_BYTES = 128 << 10;

    private final KvMemory memory;
    private final MemorySegment segment;
    private final KvDtype dtype;
    private final int nHeads;
    private final int nKvHeads;
    private final int headDim;
    private final int group;
    private final int blockSize;
    /** Bytes between adjacent V rows where the kernel reads them (the cache's f32 rows, or rows decoded to f32). */
    private final long rowStride;
    /** Bytes between adjacent dimensions of a K row where the kernel reads them (a block of f32 keys). */
    private final long keyStride;
    /** Bytes from kv head g's stretch of a block to kv head g + 1's (K or V). */
    private final long headStride;
    /** Vectors per head row; accumulators are padded to {@code padded} floats. */
    private final int chunks;
    private final int padded;
    /** The lanes of a row's last vector that lie past the row. */
    private final VectorMask<Float> pastRow;
    /** Whether a row ends inside its last vector (pastRow not empty). */
    private final boolean ragged;
    private final boolean f32;
    /** Query rows of one call at most: a row's heads, or a tile's rows of one kv head's group. */
    private final int rowsMax;
    private final ThreadLocal<Scratch> scratch;

    /**
     * One thread's working arrays. {@code scores} holds the call's scores (query row h at h * stride, position p at
     * p - the tile's first visible) and grows to the longest context seen; runs describe the positions as
     * stretches of adjacent slots.
     */
    private final class Scratch {
        float[] scores = new float[0];
        int stride;
        /** Rows of one sequence per tile at this context. */
        int tile = 1;
        /** Query row h (see {@link #attend}) at h * headDim. */
        final float[] q = new float[rowsMax * headDim];
        final float[] acc = new float[rowsMax * padded];
        final float[] sum = new float[rowsMax];
        int[] runStart = new int[0];
        int[] runLength = new int[0];
        long[] runK = new long[0];
        long[] runV = new long[0];
        /** f16/bf16: a run's K (headDim rows of keys, keyStride apart) and V rows decoded to float32. */
        final MemorySegment keys = f32 ? MemorySegment.NULL : Arena.ofAuto().allocate(4L * (headDim * blockSize + L), 64);
        final MemorySegment rows = f32 ? MemorySegment.NULL : Arena.ofAuto().allocate(4L * (blockSize * headDim + L), 64);
        final float[] floats = f32 ? null : new float[Math.max(headDim, blockSize)];
        /** What {@link #touch} read, kept so that its loads are not removed. */
        int sink;

        void ensure(int context) {
            if (stride < context + L) {
                stride = context + L;
                tile = Math.clamp(SCORE_BUDGET / ((long) group * stride), 1, TILE);
                scores = new float[Math.max(nHeads, tile * group) * stride];
            }
            int runs = 2 * (context / blockSize + 1);  // a logical block is at most two physical stretches
            if (runStart.length < runs) {
                runStart = new int[runs];
                runLength = new int[runs];
                runK = new long[runs];
                runV = new long[runs];
            }
        }
    }

    public PagedAttention(KvMemory memory, int nHeads) {
        this.memory = memory;
        this.segment = memory.segment();
        this.dtype = memory.shape().dtype();
        this.nKvHeads = memory.shape().kvHeads();
        this.headDim = memory.shape().headDim();
        if (nHeads < nKvHeads || nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException(nHeads + " query heads are not a multiple of " + nKvHeads + " kv heads");
        }
        this.nHeads = nHeads;
        this.group = nHeads / nKvHeads;
        this.blockSize = memory.blockSize();
        this.headStride = memory.rowOffset(0, 0, 0, KvMemory.K, 1) - memory.rowOffset(0, 0, 0, KvMemory.K, 0);
        this.chunks = (headDim + L - 1) / L;
        this.padded = chunks * L;
        this.pastRow = F.indexInRange(padded - L, headDim).not();
        this.ragged = headDim % L != 0;
        this.f32 = dtype == KvDtype.F32;
        this.rowStride = 4L * headDim;
        this.keyStride = 4L * blockSize;
        this.rowsMax = Math.max(nHeads, TILE * group);
        this.scratch = ThreadLocal.withInitial(Scratch::new);
    }

    /**
     * Writes each row's new K and V into the slot of its position for {@code layer}. The slots must be allocated
     * ({@code position < seq.length()}): append to the allocator first.
     */
    public void writeKv(int layer, ForwardBatch<KvSequence> batch, float[] k, float[] v) {
        writeKv(layer, batch, k, v, 0, batch.tokenCount());
    }

    /** {@link #writeKv} for batch rows {@code t0..t1-1} only (rows write disjoint slots, so ranges may run in parallel). */
    public void writeKv(int layer, ForwardBatch<KvSequence> batch, float[] k, float[] v, int t0, int t1) {
        int kvDim = nKvHeads * headDim;
        for (int t = t0; t < t1; t++) {
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

    /**
     * Computes items {@code start..end-1} (item = row * nKvHeads + kv head) into {@code out}: whole rows in tiles of
     * adjacent positions of one sequence, a row cut by the range's ends on its own.
     */
    public void run(int layer, LayerAttention how, ForwardBatch<KvSequence> batch, float[] q, float[] out, int start, int end) {
        Scratch s = scratch.get();
        s.ensure(batch.maxContext());
        for (int item = start; item < end; ) {
            int t = item / nKvHeads;
            int g = item % nKvHeads;
            int heads = Math.min(nKvHeads - g, end - item);
            int rows = 1;
            if (heads == nKvHeads) {
                while (rows < s.tile && (t + rows + 1) * nKvHeads <= end && batch.tokenSeq[t + rows] == batch.tokenSeq[t]
                        && batch.positions[t + rows] == batch.positions[t] + rows) {
                    rows++;
                }
            }
            KvSequence seq = batch.sequence(batch.tokenSeq[t]);
            if (rows == 1) {
                attend(s, layer, how, seq, batch.positions[t], 1, t, g, heads, q, out);
            } else {
                for (int j = 0; j < nKvHeads; j++) {
                    attend(s, layer, how, seq, batch.positions[t], rows, t, j, 1, q, out);
                }
            }
            item += rows * heads;
        }
    }

    /**
     * Batch rows t..t + rows - 1 (positions pos0.. of one sequence) attend with query heads of kv heads
     * g..g + kvHeads - 1. Query row h = (j * rows + i) * group + e is row t + i's head (g + j) * group + e.
     */
    private void attend(Scratch s, int layer, LayerAttention how, KvSequence seq, int pos0, int rows, int t, int g, int kvHeads,
                        float[] q, float[] out) {
        int base = how.firstVisible(pos0);
        int runs = runs(s, seq, layer, g, base, pos0 + rows);
        int perHead = rows * group;
        for (int j = 0; j < kvHeads; j++) {
            for (int i = 0; i < rows; i++) {
                System.arraycopy(q, ((t + i) * nHeads + (g + j) * group) * headDim, s.q, (j * rows + i) * group * headDim,
                        group * headDim);
            }
        }
        // Pass 1: scores of positions base..pos0 + rows - 1 (each row's past its own position are not used).
        // Two sets of rows per tile (8 chains): in f32 two kv heads at once (K read in place), else halves of a head's rows.
        for (int r = 0, ahead = 0; r < runs; r++) {
            if (f32 && r == ahead) {
                ahead = touch(s, s.runK, r, runs, kvHeads);
            }
            int n = s.runLength[r], p = s.runStart[r] - base;
            for (int j = 0; j < kvHeads; ) {
                long at = s.runK[r] + j * headStride;
                if (f32 && j + 1 < kvHeads) {
                    scoreRun(s, segment, j * perHead, perHead, at, (j + 1) * perHead, perHead, at + headStride, n, p, how.scale(), how.softCap());
                    j += 2;
                } else {
                    MemorySegment src = keys(s, at, n);
                    long k = f32 ? at : 0;
                    int half = (perHead + 1) / 2, h = j * perHead;
                    scoreRun(s, src, h, half, k, h + half, perHead - half, k, n, p, how.scale(), how.softCap());
                    j++;
                }
            }
        }
        for (int j = 0; j < kvHeads; j++) {
            for (int i = 0; i < rows; i++) {
                int from = how.firstVisible(pos0 + i);
                for (int e = 0; e < group; e++) {
                    int h = (j * rows + i) * group + e;
                    s.sum[h] = softmaxWeights(s.scores, h * s.stride + from - base, pos0 + i + 1 - from);
                }
            }
        }
        // Pass 2: probability-weighted sum of each row's V rows, in position order.
        Arrays.fill(s.acc, 0, kvHeads * perHead * padded, 0f);
        for (int r = 0, ahead = 0; r < runs; r++) {
            if (f32 && r == ahead) {
                ahead = touch(s, s.runV, r, runs, kvHeads);
            }
            int first = s.runStart[r], n = s.runLength[r];
            for (int j = 0; j < kvHeads; j++) {
                MemorySegment src = rows(s, s.runV[r] + j * headStride, n);
                long at = f32 ? s.runV[r] + j * headStride : 0;
                for (int i = 0; i < rows; i++) {
                    int lo = Math.max(first, how.firstVisible(pos0 + i)), hi = Math.min(first + n, pos0 + i + 1);
                    long from = at + (lo - first) * rowStride;
                    // three heads of the group at a time where they and four vectors are left: each V vector loaded
                    // serves three heads, and twelve independent chains keep both FMA units busy
                    for (int e = 0; lo < hi && e < group; ) {
                        int h = (j * rows + i) * group + e;
                        int heads = group - e >= 3 ? 3 : 1;
                        for (int c = 0; c < chunks; c += chunks - c >= 4 ? 4 : 1) {
                            if (heads == 3 && chunks - c >= 4) {
                                accumulateRun3(s, h, c, src, from, hi - lo, lo - base);
                            } else {
                                for (int x = 0; x < heads; x++) {
                                    accumulateRun(s, h + x, c, src, from, hi - lo, lo - base);
                                }
                            }
                        }
                        e += heads;
                    }
                }
            }
        }
        for (int j = 0; j < kvHeads; j++) {
            for (int i = 0; i < rows; i++) {
                for (int e = 0; e < group; e++) {
                    int h = (j * rows + i) * group + e;
                    int o = ((t + i) * nHeads + (g + j) * group + e) * headDim;
                    float inv = 1f / s.sum[h];
                    for (int d = 0; d < headDim; d++) {
                        out[o + d] = s.acc[h * padded + d] * inv;
                    }
                }
            }
        }
    }

    /**
     * Splits positions from..context-1 into runs of adjacent slots (one physical block each: a contiguous run's
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
            s.runK[runs] = memory.rowOffset(slot / blockSize, slot % blockSize, layer, KvMemory.K, g);
            s.runV[runs++] = memory.rowOffset(slot / blockSize, slot % blockSize, layer, KvMemory.V, g);
            p += n;
        }
        return runs;
    }

    /**
     * Reads one int of every cache line of the K (or V) stretches of the call's kv heads in runs {@code from..},
     * up to {@link #TOUCH_BYTES} of them, one after another with nothing waiting on them, just before a pass walks
     * them: the misses of many lines are in flight together (the passes' own walk asks for one line per few FMAs,
     * and the hardware prefetcher does not cross 4 KiB pages, which a block's stretch of one kv head fills). A
     * bounded stretch stays in L2 until the pass reads it: touching a whole long context first evicted its start.
     * Returns the run after the last one touched. The ints are folded into the scratch so the loads stay.
     */
    private int touch(Scratch s, long[] starts, int from, int runs, int kvHeads) {
        int sink = 0;
        long bytes = kvHeads * headStride, size = segment.byteSize(), touched = 0;
        int r = from;
        for (; r < runs && touched < TOUCH_BYTES; r++, touched += bytes) {
            long at = starts[r] & -64L;
            // a run that starts inside its block ends inside the next stretch: stay inside the segment
            long end = Math.min(bytes, size - at - 4);
            for (long o = 0; o <= end; o += 64) {
                sink ^= segment.get(ValueLayout.JAVA_INT, at + o);
            }
        }
        s.sink ^= sink;
        return r;
    }

    /** The segment to read a run's {@code n} keys at {@code at} from: the cache in f32, else decoded into scratch. */
    private MemorySegment keys(Scratch s, long at, int n) {
        if (f32) {
            return segment;
        }
        long step = memory.elementStride(KvMemory.K);
        for (int d = 0; d < headDim; d++) {
            dtype.load(segment, at + d * step, s.floats, 0, n);
            MemorySegment.copy(s.floats, 0, s.keys, ValueLayout.JAVA_FLOAT, d * keyStride, n);
        }
        return s.keys;
    }

    /**
     * The segment to read {@code n} adjacent V rows at {@code at} from: the cache itself in f32, else the rows
     * decoded into scratch (from offset 0).
     */
    private MemorySegment rows(Scratch s, long at, int n) {
        if (f32) {
            return segment;
        }
        for (int i = 0; i < n; i++) {
            dtype.load(segment, at + i * memory.rowBytes(), s.floats, 0, headDim);
            MemorySegment.copy(s.floats, 0, s.rows, ValueLayout.JAVA_FLOAT, i * rowStride, headDim);
        }
        return s.rows;
    }

    /**
     * Scores of query rows a0..a0 + countA - 1 against {@code n} keys at {@code src[at..]} and of rows b0..b0 + countB - 1
     * against {@code n} keys at {@code src[bt..]} (dimension d of key i at at + d * keyStride + 4i), put at positions
     * p.. of the rows' scores. A vector is L keys; four rows of each set go together, each an FMA chain over d in
     * increasing order per lane: every K vector load serves four rows, and the two sets give eight independent chains,
     * enough to cover the FMA's latency on both units (a set's last group repeats its last row; an empty set B
     * repeats set A). Lanes past the run hold other keys' or stale floats: their scores land past the run, where the
     * next run or nothing reads.
     */
    private void scoreRun(Scratch s, MemorySegment src, int a0, int countA, long at, int b0, int countB, long bt, int n, int p,
                          float scale, float cap) {
        if (countB == 0) {
            b0 = a0;
            countB = countA;
            bt = at;
        }
        float[] q = s.q;
        int lastA = a0 + countA - 1, lastB = b0 + countB - 1;
        for (int i = 0; i < n; i += L) {
            long k = at + 4L * i, l = bt + 4L * i;
            boolean inside = Math.max(k, l) + (headDim - 1) * keyStride + 4L * L <= src.byteSize();
            VectorMask<Float> keys = F.indexInRange(i, n);
            for (int g = 0; g < Math.max(countA, countB); g += 4) {
                int ha = Math.min(a0 + g, lastA), hb = Math.min(b0 + g, lastB);
                int q0 = ha * headDim, q1 = Math.min(ha + 1, lastA) * headDim;
                int q2 = Math.min(ha + 2, lastA) * headDim, q3 = Math.min(ha + 3, lastA) * headDim;
                int u0 = hb * headDim, u1 = Math.min(hb + 1, lastB) * headDim;
                int u2 = Math.min(hb + 2, lastB) * headDim, u3 = Math.min(hb + 3, lastB) * headDim;
                FloatVector a0v = FloatVector.zero(F), a1v = FloatVector.zero(F), a2v = FloatVector.zero(F), a3v = FloatVector.zero(F);
                FloatVector b0v = FloatVector.zero(F), b1v = FloatVector.zero(F), b2v = FloatVector.zero(F), b3v = FloatVector.zero(F);
                for (int d = 0; d < headDim; d++) {
                    long o = d * keyStride;
                    FloatVector kd = inside ? FloatVector.fromMemorySegment(F, src, k + o, ORDER)
                            : FloatVector.fromMemorySegment(F, src, k + o, ORDER, keys);
                    FloatVector ld = inside ? FloatVector.fromMemorySegment(F, src, l + o, ORDER)
                            : FloatVector.fromMemorySegment(F, src, l + o, ORDER, keys);
                    a0v = kd.fma(FloatVector.broadcast(F, q[q0 + d]), a0v);
                    a1v = kd.fma(FloatVector.broadcast(F, q[q1 + d]), a1v);
                    a2v = kd.fma(FloatVector.broadcast(F, q[q2 + d]), a2v);
                    a3v = kd.fma(FloatVector.broadcast(F, q[q3 + d]), a3v);
                    b0v = ld.fma(FloatVector.broadcast(F, q[u0 + d]), b0v);
                    b1v = ld.fma(FloatVector.broadcast(F, q[u1 + d]), b1v);
                    b2v = ld.fma(FloatVector.broadcast(F, q[u2 + d]), b2v);
                    b3v = ld.fma(FloatVector.broadcast(F, q[u3 + d]), b3v);
                }
                // last row first: a repeated row's slot is an earlier one, written last with the same values
                int out = p + i;
                b3v.mul(scale).intoArray(s.scores, Math.min(hb + 3, lastB) * s.stride + out);
                b2v.mul(scale).intoArray(s.scores, Math.min(hb + 2, lastB) * s.stride + out);
                b1v.mul(scale).intoArray(s.scores, Math.min(hb + 1, lastB) * s.stride + out);
                b0v.mul(scale).intoArray(s.scores, hb * s.stride + out);
                a3v.mul(scale).intoArray(s.scores, Math.min(ha + 3, lastA) * s.stride + out);
                a2v.mul(scale).intoArray(s.scores, Math.min(ha + 2, lastA) * s.stride + out);
                a1v.mul(scale).intoArray(s.scores, Math.min(ha + 1, lastA) * s.stride + out);
                a0v.mul(scale).intoArray(s.scores, ha * s.stride + out);
            }
            if (cap > 0) {
                for (int h = a0; h <= lastA; h++) {
                    softCap(s.scores, h * s.stride + p + i, Math.min(L, n - i), cap);
                }
                for (int h = b0; h <= lastB && b0 != a0; h++) {
                    softCap(s.scores, h * s.stride + p + i, Math.min(L, n - i), cap);
                }
            }
        }
    }

    /** Gemma 2's soft-cap of n scores at a[off..], one at a time. */
    private static void softCap(float[] a, int off, int n, float cap) {
        for (int i = off; i < off + n; i++) {
            a[i] = cap * (float) StrictMath.tanh(a[i] / cap);
        }
    }

    /**
     * The n scores at w[off..] become exp(score - max), returned summed: max over all (exact, any order), the
     * exponentials by {@link #exp} a vector at a time, summed in lanes (score i in lane i % L, in increasing i)
     * then across lanes by {@link VectorMath#sum}. The order depends on n only. The floats after the n scores
     * (up to a vector) are scratch.
     */
    private static float softmaxWeights(float[] w, int off, int n) {
        int full = off + (n - n % L);
        FloatVector m = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = off; i < full; i += L) {
            m = m.max(FloatVector.fromArray(F, w, i));
        }
        VectorMask<Float> tail = F.indexInRange(0, n % L);
        m = m.max(FloatVector.fromArray(F, w, full).blend(Float.NEGATIVE_INFINITY, tail.not()));
        float max = m.reduceLanes(VectorOperators.MAX);
        FloatVector sum = FloatVector.zero(F);
        for (int i = off; i < full; i += L) {
            FloatVector x = VectorMath.exp(FloatVector.fromArray(F, w, i).sub(max));
            x.intoArray(w, i);
            sum = sum.add(x);
        }
        FloatVector x = VectorMath.exp(FloatVector.fromArray(F, w, full).sub(max)).blend(0f, tail.not());
        x.intoArray(w, full);
        return VectorMath.sum(sum.add(x));
    }

    /**
     * Vectors c.. of head e's accumulator += weight(e, p + i) * the same vectors of V row i, over {@code n} rows
     * from {@code src[at..]}, each accumulator in a register over the run and its sum in row order. Four vectors
     * at once when the row has them (a 64-float head in 16 lanes): four independent FMA chains keep the FMA units
     * busy where one chain waits on its own latency; else one vector.
     */
    private void accumulateRun(Scratch s, int e, int c, MemorySegment src, long at, int n, int p) {
        float[] w = s.scores;
        int wb = e * s.stride + p, a = e * padded + c * L;
        if (chunks - c >= 4) {
            FloatVector acc0 = FloatVector.fromArray(F, s.acc, a);
            FloatVector acc1 = FloatVector.fromArray(F, s.acc, a + L);
            FloatVector acc2 = FloatVector.fromArray(F, s.acc, a + 2 * L);
            FloatVector acc3 = FloatVector.fromArray(F, s.acc, a + 3 * L);
            for (int i = 0; i < n; i++, at += rowStride) {
                FloatVector x = FloatVector.broadcast(F, w[wb + i]);
                acc0 = chunk(src, at, c).fma(x, acc0);
                acc1 = chunk(src, at, c + 1).fma(x, acc1);
                acc2 = chunk(src, at, c + 2).fma(x, acc2);
                acc3 = chunk(src, at, c + 3).fma(x, acc3);
            }
            acc0.intoArray(s.acc, a);
            acc1.intoArray(s.acc, a + L);
            acc2.intoArray(s.acc, a + 2 * L);
            acc3.intoArray(s.acc, a + 3 * L);
            return;
        }
        FloatVector acc = FloatVector.fromArray(F, s.acc, a);
        for (int i = 0; i < n; i++, at += rowStride) {
            acc = chunk(src, at, c).fma(FloatVector.broadcast(F, w[wb + i]), acc);
        }
        acc.intoArray(s.acc, a);
    }

    /**
     * {@link #accumulateRun} for heads e, e + 1 and e + 2 (their weights at the same positions) and four vectors c..:
     * the same operations per accumulator in the same order, each V vector loaded once for the three heads.
     */
    private void accumulateRun3(Scratch s, int e, int c, MemorySegment src, long at, int n, int p) {
        float[] w = s.scores;
        int w0 = e * s.stride + p, w1 = w0 + s.stride, w2 = w1 + s.stride;
        int a = e * padded + c * L, b = a + padded, d = b + padded;
        FloatVector a0 = FloatVector.fromArray(F, s.acc, a), a1 = FloatVector.fromArray(F, s.acc, a + L);
        FloatVector a2 = FloatVector.fromArray(F, s.acc, a + 2 * L), a3 = FloatVector.fromArray(F, s.acc, a + 3 * L);
        FloatVector b0 = FloatVector.fromArray(F, s.acc, b), b1 = FloatVector.fromArray(F, s.acc, b + L);
        FloatVector b2 = FloatVector.fromArray(F, s.acc, b + 2 * L), b3 = FloatVector.fromArray(F, s.acc, b + 3 * L);
        FloatVector d0 = FloatVector.fromArray(F, s.acc, d), d1 = FloatVector.fromArray(F, s.acc, d + L);
        FloatVector d2 = FloatVector.fromArray(F, s.acc, d + 2 * L), d3 = FloatVector.fromArray(F, s.acc, d + 3 * L);
        for (int i = 0; i < n; i++, at += rowStride) {
            FloatVector v0 = chunk(src, at, c), v1 = chunk(src, at, c + 1), v2 = chunk(src, at, c + 2), v3 = chunk(src, at, c + 3);
            FloatVector x = FloatVector.broadcast(F, w[w0 + i]);
            a0 = v0.fma(x, a0);
            a1 = v1.fma(x, a1);
            a2 = v2.fma(x, a2);
            a3 = v3.fma(x, a3);
            x = FloatVector.broadcast(F, w[w1 + i]);
            b0 = v0.fma(x, b0);
            b1 = v1.fma(x, b1);
            b2 = v2.fma(x, b2);
            b3 = v3.fma(x, b3);
            x = FloatVector.broadcast(F, w[w2 + i]);
            d0 = v0.fma(x, d0);
            d1 = v1.fma(x, d1);
            d2 = v2.fma(x, d2);
            d3 = v3.fma(x, d3);
        }
        a0.intoArray(s.acc, a);
        a1.intoArray(s.acc, a + L);
        a2.intoArray(s.acc, a + 2 * L);
        a3.intoArray(s.acc, a + 3 * L);
        b0.intoArray(s.acc, b);
        b1.intoArray(s.acc, b + L);
        b2.intoArray(s.acc, b + 2 * L);
        b3.intoArray(s.acc, b + 3 * L);
        d0.intoArray(s.acc, d);
        d1.intoArray(s.acc, d + L);
        d2.intoArray(s.acc, d + 2 * L);
        d3.intoArray(s.acc, d + 3 * L);
    }

    /**
     * Vector c of the row at {@code src[at..]}, lanes past the row zero. The last vector of a row is read whole and
     * its extra lanes (the next row's) replaced by zeros: a masked load with a mask that is not a constant costs
     * several times more. Only a read that would pass the end of the segment takes the masked load.
     */
    private FloatVector chunk(MemorySegment src, long at, int c) {
        long o = at + 4L * c * L;
        if (c < chunks - 1 || !ragged) {
            return FloatVector.fromMemorySegment(F, src, o, ORDER);
        }
        if (o + 4L * L <= src.byteSize()) {
            return FloatVector.fromMemorySegment(F, src, o, ORDER).blend(0f, pastRow);
        }
        return FloatVector.fromMemorySegment(F, src, o, ORDER, pastRow.not());
    }
}
