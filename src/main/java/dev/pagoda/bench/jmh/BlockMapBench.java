package dev.pagoda.bench.jmh;

import dev.pagoda.engine.BlockMapPublisher;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.scheduler.PreemptionMode;
import dev.pagoda.scheduler.Scheduler;
import dev.pagoda.scheduler.SchedulerConfig;
import dev.pagoda.scheduler.Sequence;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What publishing the KV block map costs the engine thread per step: the allocator's description of every
 * block, the owners of the running sequences and the KV accounting, written into a reused buffer. The cache is
 * nearly full ({@value #SEQUENCES} sequences of {@value #PROMPT} tokens, and in the paged layout
 * {@value #FORKS} of them forked so that their blocks are shared), placed by the engine's scheduler.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class BlockMapBench {
    private static final int BLOCK_SIZE = 16;
    private static final int SEQUENCES = 48;
    private static final int PROMPT = 3000;
    private static final int FORKS = 16;

    @Param({"10000"})
    public int blocks;

    @Param({"paged", "contiguous"})
    public String layout;

    private KvAllocator allocator;
    private Scheduler<Label> scheduler;
    private BlockMapPublisher publisher;

    record Label(String requestId, int sampleIndex) implements BlockMapPublisher.Owner {
    }

    @Setup
    public void setup() {
        allocator = KvAllocator.accounting(KvLayout.valueOf(layout.toUpperCase(Locale.ROOT)), blocks, BLOCK_SIZE);
        scheduler = new Scheduler<>(new SchedulerConfig(SEQUENCES + FORKS, Integer.MAX_VALUE, PreemptionMode.RECOMPUTE,
                EngineConfig.WATERMARK, EngineConfig.defaults().growthRoom()), allocator);
        int[] prompt = new int[PROMPT];
        for (int i = 0; i < SEQUENCES; i++) {
            scheduler.addWaiting(new Sequence<>(new Label("cmpl-" + i + "-0", 0), i, prompt, PROMPT + 200));
        }
        while (scheduler.numWaiting() > 0) {
            scheduler.advance(scheduler.schedule());
        }
        if (allocator.canFork()) {
            for (int i = 0; i < FORKS; i++) {
                Sequence<Label> parent = scheduler.running().get(i);
                scheduler.fork(parent, new Label(parent.owner().requestId(), 1));
            }
        }
        publisher = new BlockMapPublisher();
        publisher.watch();
    }

    @Benchmark
    public BlockMapPublisher publish() {
        publisher.publish(allocator, scheduler.running(), PROMPT + 200, 0);
        return publisher;
    }
}
