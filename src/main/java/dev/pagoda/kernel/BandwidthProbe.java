package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/**
 * Sustainable memory read bandwidth, measured the way decode reads weights: all pool threads stream disjoint
 * parts of an off-heap buffer larger than the caches, in huge pages as the repacked weights are ({@link HugePages}),
 * 4 streams at a time as a single-token tile reads 4 panels. Takes well under a second; the best of a few passes
 * counts. (Over plain pages and one stream a thread it read 12-18% less than the weights were then read at, and
 * F32 decode reported 1.1 of this roofline.)
 */
public final class BandwidthProbe {
    /**
     * Far larger than any last-level cache (EPYC parts with stacked cache hold up to 96 MiB per CCD; with a
     * 64 MiB buffer the best pass read from cache and the probe reported 65 GB/s), small enough to allocate
     * in a fraction of a second.
     */
    private static final long BUFFER_BYTES = 512L << 20;
    private static final int PASSES = 4;

    private BandwidthProbe() {
    }

    /** Read bandwidth in GB/s (1e9 bytes per second) with the shared pool. */
    public static double measureGBps() {
        return measureGBps(WorkerPool.shared());
    }

    public static double measureGBps(WorkerPool pool) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = HugePages.allocate(BUFFER_BYTES, arena);
            buf.fill((byte) 1);  // every page mapped before timing (an untouched one reads as the shared zero page)
            int chunks = pool.threads() * 64;
            long chunkBytes = BUFFER_BYTES / chunks;
            float[] sink = new float[chunks];
            RangeTask read = (start, end) -> {
                for (int c = start; c < end; c++) {
                    sink[c] = readSum(buf, c * chunkBytes, chunkBytes);
                }
            };
            double best = 0;
            for (int pass = 0; pass < PASSES; pass++) {
                long t0 = System.nanoTime();
                pool.parallelFor(chunks, read);
                long t1 = System.nanoTime();
                best = Math.max(best, BUFFER_BYTES / (double) (t1 - t0));
            }
            if (sink[0] != sink[chunks - 1]) {
                throw new IllegalStateException("bandwidth probe read inconsistent data");
            }
            return best;
        }
    }

    /** The quarters of the chunk read side by side, one accumulator each (the adds do not limit the read rate). */
    private static float readSum(MemorySegment s, long off, long bytes) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int quarter = (int) (bytes / 4);
        for (int i = 0; i + 4 * L <= quarter; i += 4 * L) {
            long p = off + i;
            a0 = a0.add(FloatVector.fromMemorySegment(F, s, p, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, s, p + quarter, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, s, p + 2L * quarter, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, s, p + 3L * quarter, ByteOrder.LITTLE_ENDIAN));
        }
        return VectorMath.sum(a0.add(a1).add(a2.add(a3)));
    }
}
