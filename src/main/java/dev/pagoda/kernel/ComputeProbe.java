package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;

import jdk.incubator.vector.FloatVector;

/**
 * Sustainable float multiply-add rate (the FMA peak), measured the way the batched matmul computes: every pool
 * thread runs independent vector fused multiply-adds on registers, with no memory traffic. The companion of
 * {@link BandwidthProbe}: a batched or prefill step can at best reach this rate, a single stream at best the
 * bandwidth roofline. Takes a fraction of a second; the best of a few passes counts.
 */
public final class ComputeProbe {
    /** Multiply-add vector operations per chunk: 12 accumulators x 2^16 iterations. */
    private static final int ITERATIONS = 1 << 16;
    private static final int ACCUMULATORS = 12;
    private static final int PASSES = 8;

    private ComputeProbe() {
    }

    /** Peak float throughput in GFLOP/s (a multiply-add counts as 2 flops) with the shared pool. */
    public static double measureGflops() {
        return measureGflops(WorkerPool.shared());
    }

    public static double measureGflops(WorkerPool pool) {
        int chunks = pool.threads() * 32;
        float[] sink = new float[chunks];
        RangeTask run = (start, end) -> {
            for (int c = start; c < end; c++) {
                sink[c] = fmaChain(1f + c * 1e-9f);
            }
        };
        double flopsPerPass = 2.0 * chunks * ITERATIONS * ACCUMULATORS * L;
        double best = 0;
        for (int pass = 0; pass < PASSES; pass++) {
            long t0 = System.nanoTime();
            pool.parallelFor(chunks, run);
            long t1 = System.nanoTime();
            best = Math.max(best, flopsPerPass / (t1 - t0));
        }
        if (!Float.isFinite(sink[0])) {
            throw new IllegalStateException("compute probe overflowed");
        }
        return best;
    }

    /**
     * Twelve independent accumulators: enough to cover the FMA latency on two pipes (4 cycles x 2) with room.
     * The multiplier is just below 1 so values stay finite; the result is returned so the work is not removed.
     */
    private static float fmaChain(float seed) {
        FloatVector m = FloatVector.broadcast(F, 0.999999f);
        FloatVector c = FloatVector.broadcast(F, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(F, seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3);
        FloatVector a4 = a0.add(4), a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7);
        FloatVector a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10), a11 = a0.add(11);
        for (int i = 0; i < ITERATIONS; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return VectorMath.sum(a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).add(a8.add(a9).add(a10.add(a11))));
    }
}
