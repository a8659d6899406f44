package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;
import static dev.pagoda.kernel.VectorMath.sum;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Weight-streaming matrix multiplication {@code out[t][r] = dot(w.row(r), x[t])} for a batch of tokens.
 *
 * <p>A matrix repacked at load ({@link WeightMatrix#packed}: F32, BF16, F16, Q8_0, Q5_0, Q4_0, Q4_K, Q5_K, Q6_K) runs
 * the outer-product tiles of {@link PanelTile} over its {@link RowPanels}, or those of {@link Int8Tile} over its
 * {@link Int8Panels}, {@link Q4_0Tile}, {@link Q4KTile} or {@link Q6KTile} ({@link PanelJob}); what follows is the path over rows, taken by the other
 * quantized types and by matrices that were not repacked.
 *
 * <p>Rows are processed in blocks of 4, handed out in chunks over the {@link WorkerPool}. A block of weight rows is
 * read from memory once per chunk of tokens and used for every token of the chunk, in register tiles of
 * 4 rows x 4 tokens (16 vector accumulators; remaining tokens 4 rows x 1), folded to sums after the tile. Tokens are taken in chunks whose
 * activations stay in the L2 cache, so a large batch streams the weights a few times rather than the
 * activations once per row block. Non-F32 rows are first decoded to float32 scratch (exactly as
 * {@link Dequant}), once per block and chunk, so a quantized matmul equals the F32 matmul of the dequantized
 * weights, bit for bit; with fewer than 4 tokens, Q8_0, Q4_K and Q6_K rows are decoded in registers instead
 * ({@link DecodingTile}: the same values in the same order).
 *
 * <p>Determinism and batch invariance: every output element is one vector accumulator of L lanes, fed by fused
 * multiply-adds over the columns in ascending chunks of L (a masked last chunk when cols is not a multiple of L),
 * then folded by {@link VectorMath#sum} (once per output, after its loop). Tiles only interleave independent
 * accumulators, so the result for a token is bit-identical whatever the batch size, its place in the batch,
 * the chunking or the thread split.
 *
 * <p>Kernels are small separate methods on purpose: Vector API code only runs fast once compiled with its
 * calls intrinsified; in a method too large for C1 or a C2 compile over its inlining budget it runs boxed,
 * 100x slower or worse.
 */
public final class MatMul {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final int ROW_TILE = 4;
    private static final int TOKEN_TILE = 4;
    /** Activation bytes per token chunk: well inside a 1 MiB L2 with the decoded rows beside them. */
    private static final int CHUNK_BYTES = 256 << 10;

    private static final ThreadLocal<MatMulCall> JOBS = ThreadLocal.withInitial(Job::new);
    private static final ThreadLocal<MatMulCall> PANEL_JOBS = ThreadLocal.withInitial(PanelJob::new);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private MatMul() {
    }

    /** {@code nTokens} rows of {@code x} (row t at {@code xOff + t*cols}) times {@code w}^T into {@code out} (row t at {@code outOff + t*rows}). */
    public static void matmul(WeightMatrix w, float[] x, int xOff, int nTokens, float[] out, int outOff) {
        matmul(WorkerPool.shared(), w, x, xOff, nTokens, out, outOff);
    }

    public static void matmul(WorkerPool pool, WeightMatrix w, float[] x, int xOff, int nTokens, float[] out, int outOff) {
        if (nTokens <= 0) {
            return;
        }
        if (xOff < 0 || (long) xOff + (long) nTokens * w.cols() > x.length
                || outOff < 0 || (long) outOff + (long) nTokens * w.rows() > out.length) {
            throw new IndexOutOfBoundsException(w.name() + ": " + nTokens + " tokens of " + w.cols() + " -> " + w.rows()
                    + " do not fit x[" + x.length + "]@" + xOff + " / out[" + out.length + "]@" + outOff);
        }
        boolean panels = w.panels() != null;
        MatMulCall job = (panels ? PANEL_JOBS : JOBS).get().set(w, x, xOff, nTokens, out, outOff);
        try {
            run(pool, w, nTokens, panels ? PanelJob.blocks(w.rows()) : (w.rows() + ROW_TILE - 1) / ROW_TILE, job);
        } finally {
            job.clear();
        }
    }

    private static void run(WorkerPool pool, WeightMatrix w, int nTokens, int blocks, RangeTask job) {
        if ((long) w.rows() * w.cols() * nTokens < WorkerPool.INLINE_WORK) {
            job.run(0, blocks);  // waking the workers would cost more than the work
        } else {
            pool.parallelFor(blocks, job);
        }
    }

    /** One token: {@code out[outOff + r] = dot(w.row(r), x[xOff..])}. */
    public static void matvec(WeightMatrix w, float[] x, int xOff, float[] out, int outOff) {
        matmul(w, x, xOff, 1, out, outOff);
    }

    /** The path over rows: blocks of 4 rows. */
    private static final class Job extends MatMulCall {
        @Override
        public void run(int firstBlock, int endBlock) {
            int cols = w.cols();
            int chunk = Math.max(TOKEN_TILE, CHUNK_BYTES / (4 * cols) / TOKEN_TILE * TOKEN_TILE);
            for (int t0 = 0; t0 < nTokens; t0 += chunk) {
                int t1 = Math.min(nTokens, t0 + chunk);
                // few tokens: decoding in registers beats decoding to scratch (same values, same order). A method
                // apart, so that block's compiled code and profile are the same whether or not decode steps ran.
                boolean inRegisters = t1 - t0 < TOKEN_TILE && DecodingTile.supports(w.type(), cols);
                for (int b = firstBlock; b < endBlock; b++) {
                    if (inRegisters) {
                        decodingBlock(b * ROW_TILE, t0, t1);
                    } else {
                        block(b * ROW_TILE, t0, t1);
                    }
                }
            }
        }

        /** {@link #block} for fewer than 4 tokens with {@link DecodingTile}. */
        private void decodingBlock(int r0, int t0, int t1) {
            WeightMatrix w = this.w;
            int rows = w.rows();
            int cols = w.cols();
            int r1 = Math.min(r0 + 1, rows - 1), r2 = Math.min(r0 + 2, rows - 1), r3 = Math.min(r0 + 3, rows - 1);
            Scratch scratch = SCRATCH.get().ensure(cols);
            long rb = w.rowBytes();
            for (int t = t0; t < t1; t++) {
                DecodingTile.run(w.type(), w.data(), r0 * rb, r1 * rb, r2 * rb, r3 * rb, cols, x, xOff + t * cols, scratch.acc, scratch.tmp);
                store(scratch.acc, 1, out, outOff + t * rows + r0, rows, r1 - r0, r2 - r0, r3 - r0);
            }
        }

        /** Rows r0..r0+3 (the last row repeated when rows run out: computed again, stored once) for tokens [t0, t1). */
        private void block(int r0, int t0, int t1) {
            WeightMatrix w = this.w;
            int rows = w.rows();
            int cols = w.cols();
            int r1 = Math.min(r0 + 1, rows - 1), r2 = Math.min(r0 + 2, rows - 1), r3 = Math.min(r0 + 3, rows - 1);
            Scratch scratch = SCRATCH.get().ensure(cols);
            float[] acc = scratch.acc;
            MemorySegment seg;
            long w0, w1, w2, w3;
            if (w.type() == TensorType.F32) {
                seg = w.data();
                long rb = w.rowBytes();
                w0 = r0 * rb;
                w1 = r1 * rb;
                w2 = r2 * rb;
                w3 = r3 * rb;
            } else {
                seg = scratch.rows;
                long rb = 4L * cols;
                w0 = 0;
                w1 = rb;
                w2 = 2 * rb;
                w3 = 3 * rb;
                RowDecoder.decode(w, r0, seg, w0, scratch.tmp);
                RowDecoder.decode(w, r1, seg, w1, scratch.tmp);
                RowDecoder.decode(w, r2, seg, w2, scratch.tmp);
                RowDecoder.decode(w, r3, seg, w3, scratch.tmp);
            }
            int d1 = r1 - r0, d2 = r2 - r0, d3 = r3 - r0;
            int t = t0;
            // 4-token tiles need whole vectors; other column counts take the 1-token tile (same order)
            if (cols % L == 0) {
                for (; t + TOKEN_TILE <= t1; t += TOKEN_TILE) {
                    tile4x4(seg, w0, w1, w2, w3, cols, x, xOff + t * cols, acc);
                    store(acc, TOKEN_TILE, out, outOff + t * rows + r0, rows, d1, d2, d3);
                }
            }
            for (; t < t1; t++) {
                tile4x1(seg, w0, w1, w2, w3, cols, x, xOff + t * cols, acc);
                store(acc, 1, out, outOff + t * rows + r0, rows, d1, d2, d3);
            }
        }
    }

    /** Per-thread decode buffer for a block of rows, grown on demand (never per call once warm), and the tile accumulators. */
    private static final class Scratch {
        final float[] acc = new float[ROW_TILE * TOKEN_TILE * L];
        MemorySegment rows = MemorySegment.NULL;
        float[] tmp = new float[0];

        Scratch ensure(int cols) {
            if (tmp.length < cols) {
                rows = Arena.ofAuto().allocate(4L * ROW_TILE * cols, 64);
                tmp = new float[cols];  // also the decoding tiles' block scales (64 floats; their cols >= 256)
            }
            return this;
        }
    }

    /**
     * Tokens x[xb + k*cols], k < 4, against the rows at byte offsets w0..w3; token k, row j goes to
     * out[ob + k*rows + dj] (d0 = 0). Each accumulator sees exactly the operations of {@link #tile4x1}, in the
     * same order. Needs cols to be a multiple of L: without a masked tail the method stays small enough for C1
     * (C1 gives up on it otherwise, leaving it interpreted, and Vector API code interpreted is ~1000x slower).
     */
    private static void tile4x4(MemorySegment w, long w0, long w1, long w2, long w3, int cols, float[] x, int xb, float[] acc) {
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
        int x1 = xb + cols, x2 = x1 + cols, x3 = x2 + cols;
        for (int i = 0; i < cols; i += L) {
            long o = 4L * i;
            FloatVector v0 = FloatVector.fromMemorySegment(F, w, w0 + o, LE);
            FloatVector v1 = FloatVector.fromMemorySegment(F, w, w1 + o, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(F, w, w2 + o, LE);
            FloatVector v3 = FloatVector.fromMemorySegment(F, w, w3 + o, LE);
            FloatVector t = FloatVector.fromArray(F, x, xb + i);
            a00 = v0.fma(t, a00);
            a01 = v1.fma(t, a01);
            a02 = v2.fma(t, a02);
            a03 = v3.fma(t, a03);
            t = FloatVector.fromArray(F, x, x1 + i);
            a10 = v0.fma(t, a10);
            a11 = v1.fma(t, a11);
            a12 = v2.fma(t, a12);
            a13 = v3.fma(t, a13);
            t = FloatVector.fromArray(F, x, x2 + i);
            a20 = v0.fma(t, a20);
            a21 = v1.fma(t, a21);
            a22 = v2.fma(t, a22);
            a23 = v3.fma(t, a23);
            t = FloatVector.fromArray(F, x, x3 + i);
            a30 = v0.fma(t, a30);
            a31 = v1.fma(t, a31);
            a32 = v2.fma(t, a32);
            a33 = v3.fma(t, a33);
        }
        a00.intoArray(acc, 0);
        a01.intoArray(acc, L);
        a02.intoArray(acc, 2 * L);
        a03.intoArray(acc, 3 * L);
        a10.intoArray(acc, 4 * L);
        a11.intoArray(acc, 5 * L);
        a12.intoArray(acc, 6 * L);
        a13.intoArray(acc, 7 * L);
        a20.intoArray(acc, 8 * L);
        a21.intoArray(acc, 9 * L);
        a22.intoArray(acc, 10 * L);
        a23.intoArray(acc, 11 * L);
        a30.intoArray(acc, 12 * L);
        a31.intoArray(acc, 13 * L);
        a32.intoArray(acc, 14 * L);
        a33.intoArray(acc, 15 * L);
    }

    /**
     * Folds the accumulators of {@code tokens} tokens x 4 rows (token k, row j at acc[(4k + j) * L]) into
     * out[ob + k*rows + dj]. A separate method taking arrays, and lane sums taking arrays: a vector passed to a
     * method C2 does not inline is boxed, and the compile of {@code Job.block} runs out of inlining budget
     * (NodeCountInliningCutoff), which boxed every lane sum here. Row 3, 2, 1, then 0: when rows ran out the repeated rows
     * alias an earlier slot with the same value.
     */
    private static void store(float[] acc, int tokens, float[] out, int ob, int rows, int d1, int d2, int d3) {
        for (int k = 0; k < tokens; k++) {
            int a = 4 * k * L;
            int o = ob + k * rows;
            out[o + d3] = sum(acc, a + 3 * L);
            out[o + d2] = sum(acc, a + 2 * L);
            out[o + d1] = sum(acc, a + L);
            out[o] = sum(acc, a);
        }
    }

    /** One token x[xb..] against the rows at byte offsets w0..w3; the same per-element order as {@link #tile4x4}. */
    private static void tile4x1(MemorySegment w, long w0, long w1, long w2, long w3, int cols, float[] x, int xb, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int bound = F.loopBound(cols);
        int i = 0;
        for (; i < bound; i += L) {
            long o = 4L * i;
            FloatVector t = FloatVector.fromArray(F, x, xb + i);
            a0 = FloatVector.fromMemorySegment(F, w, w0 + o, LE).fma(t, a0);
            a1 = FloatVector.fromMemorySegment(F, w, w1 + o, LE).fma(t, a1);
            a2 = FloatVector.fromMemorySegment(F, w, w2 + o, LE).fma(t, a2);
            a3 = FloatVector.fromMemorySegment(F, w, w3 + o, LE).fma(t, a3);
        }
        if (i < cols) {
            VectorMask<Float> m = F.indexInRange(i, cols);
            long o = 4L * i;
            FloatVector t = FloatVector.fromArray(F, x, xb + i, m);
            a0 = FloatVector.fromMemorySegment(F, w, w0 + o, LE, m).fma(t, a0);
            a1 = FloatVector.fromMemorySegment(F, w, w1 + o, LE, m).fma(t, a1);
            a2 = FloatVector.fromMemorySegment(F, w, w2 + o, LE, m).fma(t, a2);
            a3 = FloatVector.fromMemorySegment(F, w, w3 + o, LE, m).fma(t, a3);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
    }
}
