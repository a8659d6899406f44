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
 * <p>Rows are processed in pairs, split statically over the {@link WorkerPool}. A pair of weight rows is read from
 * memory once and used for every token of the batch, in register tiles of 4 tokens x 2 rows (remaining tokens
 * 1 x 2). Non-F32 rows are first decoded to float32 scratch (exactly as {@link Dequant}), so a quantized matmul
 * equals the F32 matmul of the dequantized weights, bit for bit.
 *
 * <p>Determinism and batch invariance: every output element is one vector accumulator of L lanes, fed by fused
 * multiply-adds over the columns in ascending chunks of L (a masked last chunk when cols is not a multiple of L),
 * then folded by {@link VectorMath#sum}. Tiles only interleave independent accumulators, so the result for a
 * token is bit-identical whatever the batch size, its place in the batch, or the thread split.
 *
 * <p>Kernels are small separate methods on purpose: Vector API code only runs fast once compiled with its
 * calls intrinsified; in a method too large for C1 or a C2 compile over its inlining budget it runs boxed,
 * 100x slower or worse.
 */
public final class MatMul {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int TOKEN_TILE = 4;

    private static final ThreadLocal<Job> JOBS = ThreadLocal.withInitial(Job::new);
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
        Job job = JOBS.get();
        job.set(w, x, xOff, nTokens, out, outOff);
        try {
            int pairs = (w.rows() + 1) / 2;
            if ((long) w.rows() * w.cols() * nTokens < WorkerPool.INLINE_WORK) {
                job.run(0, pairs);  // waking the workers would cost more than the work
            } else {
                pool.parallelFor(pairs, job);
            }
        } finally {
            job.clear();
        }
    }

    /** One token: {@code out[outOff + r] = dot(w.row(r), x[xOff..])}. */
    public static void matvec(WeightMatrix w, float[] x, int xOff, float[] out, int outOff) {
        matmul(w, x, xOff, 1, out, outOff);
    }

    /** The arguments of one call, reused by the calling thread so that a call allocates nothing. */
    private static final class Job implements RangeTask {
        private WeightMatrix w;
        private float[] x;
        private float[] out;
        private int xOff;
        private int nTokens;
        private int outOff;

        void set(WeightMatrix w, float[] x, int xOff, int nTokens, float[] out, int outOff) {
            this.w = w;
            this.x = x;
            this.xOff = xOff;
            this.nTokens = nTokens;
            this.out = out;
            this.outOff = outOff;
        }

        void clear() {
            w = null;
            x = null;
            out = null;
        }

        @Override
        public void run(int firstPair, int endPair) {
            WeightMatrix w = this.w;
            int rows = w.rows();
            int cols = w.cols();
            boolean direct = w.type() == TensorType.F32;
            Scratch scratch = direct ? null : SCRATCH.get().ensure(cols);
            boolean wholeVectors = cols % L == 0;
            for (int p = firstPair; p < endPair; p++) {
                int r0 = 2 * p;
                int r1 = Math.min(r0 + 1, rows - 1);  // an odd last row is computed twice, stored once
                MemorySegment seg;
                long w0;
                long w1;
                if (direct) {
                    seg = w.data();
                    w0 = r0 * w.rowBytes();
                    w1 = r1 * w.rowBytes();
                } else {
                    seg = scratch.rows;
                    w0 = 0;
                    w1 = 4L * cols;
                    RowDecoder.decode(w, r0, seg, w0, scratch.tmp);
                    RowDecoder.decode(w, r1, seg, w1, scratch.tmp);
                }
                int t = 0;
                // 4-token tiles need whole vectors; other column counts take the 1 x 2 tile (same order)
                for (; t + TOKEN_TILE <= nTokens && wholeVectors; t += TOKEN_TILE) {
                    tile4x2(seg, w0, w1, cols, x, xOff + t * cols, out, outOff + t * rows + r0, rows, r1 - r0);
                }
                for (; t < nTokens; t++) {
                    tile1x2(seg, w0, w1, cols, x, xOff + t * cols, out, outOff + t * rows + r0, r1 - r0);
                }
            }
        }
    }

    /** Per-thread decode buffer for two rows, grown on demand (never per call once warm). */
    private static final class Scratch {
        MemorySegment rows = MemorySegment.NULL;
        float[] tmp = new float[0];

        Scratch ensure(int cols) {
            if (tmp.length < cols) {
                rows = Arena.ofAuto().allocate(8L * cols, 64);
                tmp = new float[cols];
            }
            return this;
        }
    }

    /**
     * Tokens x[xb + k*cols], k < 4, against rows at byte offsets w0 and w1; out[ob + k*rows] and out[ob + k*rows + dr].
     * Each accumulator sees exactly the operations of {@link #tile1x2}, in the same order.
     * Needs cols to be a multiple of L: without a masked tail the method stays small enough for C1 to compile
     * (C1 gives up on it otherwise, leaving it interpreted, and Vector API code interpreted is ~1000x slower).
     */
    private static void tile4x2(MemorySegment w, long w0, long w1, int cols, float[] x, int xb, float[] out, int ob, int rows, int dr) {
        FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F);
        FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F);
        FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F);
        FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F);
        int x1 = xb + cols, x2 = x1 + cols, x3 = x2 + cols;
        for (int i = 0; i < cols; i += L) {
            FloatVector v0 = FloatVector.fromMemorySegment(F, w, w0 + 4L * i, LE);
            FloatVector v1 = FloatVector.fromMemorySegment(F, w, w1 + 4L * i, LE);
            FloatVector t = FloatVector.fromArray(F, x, xb + i);
            a00 = v0.fma(t, a00);
            a01 = v1.fma(t, a01);
            t = FloatVector.fromArray(F, x, x1 + i);
            a10 = v0.fma(t, a10);
            a11 = v1.fma(t, a11);
            t = FloatVector.fromArray(F, x, x2 + i);
            a20 = v0.fma(t, a20);
            a21 = v1.fma(t, a21);
            t = FloatVector.fromArray(F, x, x3 + i);
            a30 = v0.fma(t, a30);
            a31 = v1.fma(t, a31);
        }
        out[ob] = sum(a00);
        out[ob + dr] = sum(a01);
        out[ob + rows] = sum(a10);
        out[ob + rows + dr] = sum(a11);
        out[ob + 2 * rows] = sum(a20);
        out[ob + 2 * rows + dr] = sum(a21);
        out[ob + 3 * rows] = sum(a30);
        out[ob + 3 * rows + dr] = sum(a31);
    }

    /** One token x[xb..] against rows at byte offsets w0 and w1; the same per-element order as {@link #tile4x2}. */
    private static void tile1x2(MemorySegment w, long w0, long w1, int cols, float[] x, int xb, float[] out, int ob, int dr) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int bound = F.loopBound(cols);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector t = FloatVector.fromArray(F, x, xb + i);
            a0 = FloatVector.fromMemorySegment(F, w, w0 + 4L * i, LE).fma(t, a0);
            a1 = FloatVector.fromMemorySegment(F, w, w1 + 4L * i, LE).fma(t, a1);
        }
        if (i < cols) {
            VectorMask<Float> m = F.indexInRange(i, cols);
            FloatVector t = FloatVector.fromArray(F, x, xb + i, m);
            a0 = FloatVector.fromMemorySegment(F, w, w0 + 4L * i, LE, m).fma(t, a0);
            a1 = FloatVector.fromMemorySegment(F, w, w1 + 4L * i, LE, m).fma(t, a1);
        }
        out[ob] = sum(a0);
        out[ob + dr] = sum(a1);
    }
}
