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
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
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
 * vector (stories260K's 8 floats) still takes vector loads. A score is one vector accumulator over the row's
 * vectors, its lanes summed by the pairwise tree of {@link VectorMath#sum}; L rows' trees are run together (see
 * {@link #foldTile}); a head of 2, 4 or 8 floats narrower than a vector scores L / headDim adjacent rows per load,
 * each folded within its lanes by the same tree. Exponentials are a vector at a time by {@link #exp} and summed in
 * lanes by position; V rows are accumulated in position order. Every order depends only on the query's own
 * position (and window), never on the rest of the batch, the chunk it came in or where its K/V rows lie: a
 * prompt gives the same bits prefilled at once, in chunks or decoded token by token.
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
    private static final VectorShuffle<Float> XOR_HALF = VectorShuffle.fromOp(F, j -> j ^ (L / 2));
    private static final VectorShuffle<Float> XOR_QUARTER = VectorShuffle.fromOp(F, j -> j ^ (L / 4));
    private static final VectorShuffle<Float> XOR_4 = VectorShuffle.fromOp(F, j -> (j ^ 4) & (L - 1));
    private static final VectorShuffle<Float> XOR_2 = VectorShuffle.fromOp(F, j -> (j ^ 2) & (L - 1));
    private static final VectorShuffle<Float> XOR_1 = VectorShuffle.fromOp(F, j -> (j ^ 1) & (L - 1));
    /** Lanes whose index has bit d: where a fold at distance d takes the second vector's sums. */
    private static final VectorMask<Float> HIGH_HALF = VectorMask.fromLong(F, lanesWithBit(L / 2));
    private static final VectorMask<Float> HIGH_QUARTER = VectorMask.fromLong(F, lanesWithBit(L / 4));
    private static final VectorMask<Float> HIGH_2 = VectorMask.fromLong(F, lanesWithBit(2));
    private static final VectorMask<Float> HIGH_1 = VectorMask.fromLong(F, lanesWithBit(1));
    /** r -> r with its log2(L) bits reversed: {@link #foldTile} sums the vector at r into lane bitReversed(r). */
    private static final int[] BIT_REVERSED = IntStream.range(0, L).map(r -> Integer.reverse(r) >>> (32 - Integer.numberOfTrailingZeros(L))).toArray();
    private static final float LOG2_E = 1.4426950408889634f;
    private static final float ROUND = 12582912f;
    /** ln 2 split so that n * LN2_HIGH is exact for |n| < 2^8. */
    private static final float LN2_HIGH = 0.693145751953125f;
    private static final float LN2_LOW = (float) (Math.log(2) - LN2_HIGH);

    static {
        if (L < 4) {
            throw new IllegalStateException("scores are folded four rows at a time: vectors of " + L + " floats are too short");
        }
    }

    private static long lanesWithBit(int d) {
        long bits = 0;
        for (int l = 0; l < L; l++) {
            bits |= (l & d) != 0 ? 1L << l : 0;
        }
        return bits;
    }

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
    /** Whether a row ends inside its last vector (pastRow not empty). */
    private final boolean ragged;
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
        /** A tile's row accumulators folded at distances L/2 and L/4: L/4 vectors per head (see {@link #foldTile}). */
        final float[] part = new float[group * L * L / 4];
        /** A tile of L rows copied out of the cache, headDim floats apart (a vector of slack after the last). */
        final float[] tile = new float[L * headDim + L];
        final float[] acc = new float[group * padded];
        final float[] sum = new float[group];
        int[] runStart = new int[0];
        int[] runLength = new int[0];
        long[] runOffset = new long[0];
        /** f16/bf16: a run's rows decoded to float32 (headDim floats apart), read as the f32 rows are. */
        final MemorySegment rows = f32 ? MemorySegment.NULL : Arena.ofAuto().allocate(4L * (blockSize * headDim + L), 64);
        final float[] rowFloats = f32 ? null : new float[headDim];

        void ensure(int context) {
            if (stride < context + L) {
                stride = context + L;
                scores = new float[group * stride];
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
        this.ragged = headDim % L != 0;
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
        for (int r = 0; r < runs; r++) {
            MemorySegment src = rows(s, s.runOffset[r], s.runLength[r]);
            long at = f32 ? s.runOffset[r] : 0;
            if (rowsPerVector > 1) {
                for (int e = 0; e < group; e++) {
                    scoreNarrowRun(s, e, src, at, s.runLength[r], s.runStart[r] - from, how.scale(), how.softCap());
                }
            } else {
                scoreRun(s, src, at, s.runLength[r], s.runStart[r] - from, how.scale(), how.softCap());
            }
        }
        int n = context - from;
        for (int e = 0; e < group; e++) {
            s.sum[e] = softmaxWeights(s.scores, e * s.stride, n);
        }
        // Pass 2: probability-weighted sum of V rows, in the same position order.
        Arrays.fill(s.acc, 0f);
        for (int r = 0; r < runs; r++) {
            MemorySegment src = rows(s, s.runOffset[r] + vDelta, s.runLength[r]);
            long at = f32 ? s.runOffset[r] + vDelta : 0;
            for (int e = 0; e < group; e++) {
                for (int c = 0; c < chunks; c += chunks - c >= 4 ? 4 : 1) {
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

    /**
     * The group's scores against {@code n} K rows from {@code src[at..]} (positions p.. from the first visible), L
     * rows at a time: the rows are copied out of the cache once for the group's heads; each row's products are one
     * vector accumulator (FMAs over the row's vectors in order), given slot bitReversed(r) so that
     * {@link #foldTile} leaves the L scores in row order. A score's bits depend only on its q and K rows, not on
     * the tile it was computed in.
     */
    private void scoreRun(Scratch s, MemorySegment src, long at, int n, int p, float scale, float cap) {
        float[] q = s.q;
        float[] part = s.part;
        for (int i = 0; i < n; i += L) {
            int rows = Math.min(L, n - i);
            float[] k = s.tile;
            MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, at + i * rowStride, k, 0, rows * headDim);
            // Rows r, r + L/4, r + L/2 and r + 3L/4 (slots bitReversed(r) and the next three) are scored together
            // and folded at distances L/2 and L/4 before one vector is stored.
            int quarter = L / 4;
            for (int r = 0; r < Math.min(rows, quarter); r++) {
                int k0 = r * headDim, k1 = k0 + quarter * headDim, k2 = k1 + quarter * headDim, k3 = k2 + quarter * headDim;
                for (int e = 0; e < group; e++) {
                    FloatVector x0 = FloatVector.zero(F), x1 = FloatVector.zero(F), y0 = FloatVector.zero(F), y1 = FloatVector.zero(F);
                    for (int c = 0; c < chunks; c++) {
                        FloatVector qc = FloatVector.fromArray(F, q, e * padded + c * L);
                        FloatVector r0 = FloatVector.fromArray(F, k, k0 + c * L), r1 = FloatVector.fromArray(F, k, k1 + c * L);
                        FloatVector r2 = FloatVector.fromArray(F, k, k2 + c * L), r3 = FloatVector.fromArray(F, k, k3 + c * L);
                        if (ragged && c == chunks - 1) {
                            r0 = r0.blend(0f, pastRow);
                            r1 = r1.blend(0f, pastRow);
                            r2 = r2.blend(0f, pastRow);
                            r3 = r3.blend(0f, pastRow);
                        }
                        x0 = qc.fma(r0, x0);
                        x1 = qc.fma(r1, x1);
                        y0 = qc.fma(r2, y0);
                        y1 = qc.fma(r3, y1);
                    }
                    FloatVector v0 = x0.blend(y0, HIGH_HALF).add(y0.blend(x0, HIGH_HALF).rearrange(XOR_HALF));
                    FloatVector v1 = x1.blend(y1, HIGH_HALF).add(y1.blend(x1, HIGH_HALF).rearrange(XOR_HALF));
                    v0.blend(v1, HIGH_QUARTER).add(v1.blend(v0, HIGH_QUARTER).rearrange(XOR_QUARTER))
                            .intoArray(part, (e * L / 4 + BIT_REVERSED[r] / 4) * L);
                }
            }
            for (int e = 0; e < group; e++) {
                int out = e * s.stride + p + i;
                foldTile(part, e * L * L / 4);
                FloatVector.fromArray(F, part, e * L * L / 4).mul(scale).intoArray(s.scores, out);
                if (cap > 0) {
                    softCap(s.scores, out, rows, cap);
                }
            }
        }
    }

    /**
     * Sums the lanes of L row accumulators at once. Slot v (0..L-1) holds a row's accumulator; step d adds lanes l
     * and l ^ d of two slots' vectors into one, the lanes with bit d clear taking the first one's sums and the others
     * the second's, so each row's lanes are added in the order of {@link VectorMath#sum} (i + L/2, then i + L/4, ...)
     * with the work of L sums shared, and slot v's sum ends in lane bitReversed(v). The first two steps (d = L/2,
     * L/4) are done by {@link #scoreRun} as the rows are scored, in registers; this one takes its L/4 vectors at
     * part[base..] (vector j: slots 4j..4j + 3) down to one at part[base]. A row's lanes never mix with another's,
     * so rows past the end of a run (stale floats) do not touch the others.
     */
    private static void foldTile(float[] part, int base) {
        if (L >= 16) {
            fold(part, base, 0, HIGH_2, XOR_2);
            fold(part, base, 1, HIGH_2, XOR_2);
        }
        if (L >= 8) {
            fold(part, base, 0, HIGH_1, XOR_1);
        }
    }

    /** Vector j <- vectors 2j and 2j + 1 folded at the distance d that {@code high} (lanes with bit d) and {@code xor} say. */
    private static void fold(float[] part, int base, int j, VectorMask<Float> high, VectorShuffle<Float> xor) {
        FloatVector x = FloatVector.fromArray(F, part, base + 2 * j * L);
        FloatVector y = FloatVector.fromArray(F, part, base + (2 * j + 1) * L);
        x.blend(y, high).add(y.blend(x, high).rearrange(xor)).intoArray(part, base + j * L);
    }

    /** Gemma 2's soft-cap of n scores at a[off..], one at a time. */
    private static void softCap(float[] a, int off, int n, float cap) {
        for (int i = off; i < off + n; i++) {
            a[i] = cap * (float) StrictMath.tanh(a[i] / cap);
        }
    }

    /**
     * Head e's scores against {@code n} K rows of a head narrower than a vector: rowsPerVector rows per load (the
     * last load of a run masked to its rows); each row's products folded within its own lanes by the same
     * pairwise tree as VectorMath.sum over a row padded with zeros, so the scores are the same bits as one row at
     * a time. No vector is passed to a call (see VectorMath).
     */
    private void scoreNarrowRun(Scratch s, int e, MemorySegment src, long at, int n, int p, float scale, float cap) {
        float[] scores = s.scores;
        int out = e * s.stride + p;
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
                scores[out + i + r] = s.lanes[r * headDim] * scale;
            }
        }
        if (cap > 0) {
            softCap(scores, out, n, cap);
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
            FloatVector x = exp(FloatVector.fromArray(F, w, i).sub(max));
            x.intoArray(w, i);
            sum = sum.add(x);
        }
        FloatVector x = exp(FloatVector.fromArray(F, w, full).sub(max)).blend(0f, tail.not());
        x.intoArray(w, full);
        return VectorMath.sum(sum.add(x));
    }

    /**
     * e^x lane by lane for x <= 0 (below -87, where e^x nears the smallest normal float, e^-87): x = n ln 2 + r with
     * |r| <= ln 2 / 2, e^r by its Taylor polynomial of degree 7 (error under 1e-8 relative), times 2^n built in the
     * exponent bits. Only adds, multiplies, FMAs and bit moves, each rounded as IEEE says, so the result is the same
     * bits compiled or interpreted (Math.exp per lane could differ from a vector library's).
     */
    private static FloatVector exp(FloatVector x) {
        x = x.max(-87f);
        // 1.5 * 2^23 added rounds x log2(e) to an integer n, left in the low bits of t.
        FloatVector t = x.fma(LOG2_E, ROUND);
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(F, -LN2_LOW), n.fma(FloatVector.broadcast(F, -LN2_HIGH), x));
        // e^r = sum of r^k / k! for k <= 7, by Horner's rule
        FloatVector p = r.fma(1f / 5040, 1f / 720);
        p = p.fma(r, FloatVector.broadcast(F, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(F, 0.5f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        FloatVector twoToN = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND) - 127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return p.mul(twoToN);
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
