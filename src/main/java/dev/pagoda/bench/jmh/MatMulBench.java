package dev.pagoda.bench.jmh;

import dev.pagoda.kernel.MatMul;
import dev.pagoda.kernel.Quantize;
import dev.pagoda.kernel.Repack;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Matmul throughput per weight type and shape (rows x cols) for a batch of nTokens; 8192x2048 (64 MiB in F32) does not
 * fit the caches, so its weights stream from memory as in a decode step. With {@code copies} above 1, the calls cycle
 * through that many separately repacked copies of the matrix, so that a smaller or 2-byte matrix also comes from
 * memory every call, as a model's weights do (a last-level cache holds part of a 32 MiB matrix between calls). Besides time per call,
 * the aux counters report rates: {@code flops} (2 * rows * cols * nTokens per call; divide by 1e9 for GFLOP/s)
 * and {@code weightBytes} (bytes of weights streamed per call; divide by 1e9 for GB/s).
 * Warm-up is long on purpose: until C2 compiles the kernels, Vector API code runs boxed, ~100x slower.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class MatMulBench {
    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    public String type;

    @Param({"768x768", "2048x768", "768x2048", "32000x768", "8192x2048"})
    public String shape;

    @Param({"1", "8", "32", "128"})
    public int nTokens;

    @Param({"1"})
    public int copies;

    private Arena arena;
    private WeightMatrix[] w;
    private int next;
    private float[] x;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]);
        int cols = Integer.parseInt(rc[1]);
        TensorType t = TensorType.valueOf(type);
        SplittableRandom rnd = new SplittableRandom(42);
        arena = Arena.ofShared();
        MemorySegment data = arena.allocate(rows * t.bytesFor(cols), 64);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                row[c] = (float) rnd.nextGaussian() * 0.02f;
            }
            Quantize.encode(t, row, 0, cols, data, r * t.bytesFor(cols));
        }
        w = new WeightMatrix[copies];
        for (int i = 0; i < copies; i++) {
            // a copy of its own also for the types used as they are (not repacked)
            MemorySegment own = i == 0 ? data : arena.allocate(data.byteSize(), 64).copyFrom(data);
            w[i] = Repack.forKernels(new WeightMatrix(type + "-" + shape, t, own, rows, cols));  // as the engine uses them
        }
        x = new float[nTokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        out = new float[nTokens * rows];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** Work done, as rates per second in the JMH output. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Work {
        public long flops;
        public long weightBytes;
    }

    @Benchmark
    public float[] matmul(Work work) {
        WeightMatrix m = w[next];
        next = next + 1 == copies ? 0 : next + 1;
        MatMul.matmul(m, x, 0, nTokens, out, 0);
        work.flops += 2L * m.rows() * m.cols() * nTokens;
        work.weightBytes += m.byteSize();
        return out;
    }
}
