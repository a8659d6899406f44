package dev.pagoda.bench.jmh;

import dev.pagoda.attention.PagedAttention;
import dev.pagoda.attention.PagedAttentionBackend;
import dev.pagoda.kernel.RopeStyle;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.kv.KvShape;
import dev.pagoda.model.ForwardBatch;
import dev.pagoda.model.LayerAttention;
import dev.pagoda.model.Rope;
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
 * Decode attention of one step: {@code seqs} sequences at {@code context} positions each, one new token apiece,
 * through every layer of llama-76m's attention shape (12 layers, 12 query heads over 4 kv heads of 64, blocks of 16,
 * F32 cache), on the shared worker pool as the engine runs it. The sequences' blocks were taken in turns, 16
 * tokens at a time, so they interleave in the cache as a server's do. The cache (32 x 1024 positions: 805 MB) does
 * not fit any cache level: a step reads every sequence's K and V from memory. Aux counter {@code kvBytes}: bytes of K
 * and V attended per call (divide by 1e9 for GB/s, against the bandwidth probe). The layers run back to back, so the
 * page-table lines of the cache stay in L2/L3, where in a step the matmuls between layers evict them: what page walks
 * cost the step (and huge pages save it) does not show here (docs/step-profile.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class AttentionBench {
    private static final int LAYERS = 12, HEADS = 12, KV_HEADS = 4, HEAD_DIM = 64, BLOCK = 16;

    @Param({"160", "1024"})
    public int context;

    @Param({"32"})
    public int seqs;

    private KvMemory memory;
    private KvSequence[] sequences;
    private PagedAttentionBackend attention;
    private ForwardBatch<KvSequence> batch;
    private final LayerAttention how = LayerAttention.global(HEAD_DIM, Rope.plain(10000f, RopeStyle.HALF));
    private float[] q;
    private float[] k;
    private float[] v;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        KvShape shape = new KvShape(LAYERS, KV_HEADS, HEAD_DIM, BLOCK, KvDtype.F32);
        memory = KvMemory.ofBlocks(shape, seqs * ((context + BLOCK - 1) / BLOCK));
        KvAllocator allocator = KvAllocator.create(KvLayout.PAGED, memory);
        sequences = new KvSequence[seqs];
        for (int s = 0; s < seqs; s++) {
            sequences[s] = allocator.admit(Math.min(BLOCK, context), context);
        }
        for (int at = BLOCK; at < context; at += BLOCK) {
            for (KvSequence s : sequences) {
                s.append(Math.min(BLOCK, context - at));
            }
        }
        SplittableRandom rnd = new SplittableRandom(42);
        int kvRow = KV_HEADS * HEAD_DIM;
        float[] rows = new float[context * kvRow];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = (float) rnd.nextGaussian();
        }
        // the history: every position's K and V in every layer (values do not matter to the speed, only that they are set)
        ForwardBatch<KvSequence> history = new ForwardBatch<>(context, 1);
        PagedAttention writer = new PagedAttention(memory, HEADS);
        for (KvSequence s : sequences) {
            history.clear();
            history.addSequence(s, new int[context], 0, context, 0, false);
            for (int l = 0; l < LAYERS; l++) {
                writer.writeKv(l, history, rows, rows);
            }
        }
        batch = new ForwardBatch<>(seqs, seqs);
        for (KvSequence s : sequences) {
            batch.addSequence(s, new int[context], context - 1, 1, context - 1, true);
        }
        attention = new PagedAttentionBackend(memory, HEADS, WorkerPool.shared());
        q = new float[seqs * HEADS * HEAD_DIM];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) rnd.nextGaussian();
        }
        k = new float[seqs * kvRow];
        v = new float[seqs * kvRow];
        out = new float[q.length];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (KvSequence s : sequences) {
            s.free();
        }
        memory.close();
    }

    /** Work done, as rates per second in the JMH output. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Work {
        public long kvBytes;
    }

    @Benchmark
    public float[] step(Work work) {
        for (int l = 0; l < LAYERS; l++) {
            attention.attend(l, how, batch, q, k, v, out);
        }
        work.kvBytes += 2L * LAYERS * seqs * context * KV_HEADS * HEAD_DIM * Float.BYTES;
        return out;
    }
}
