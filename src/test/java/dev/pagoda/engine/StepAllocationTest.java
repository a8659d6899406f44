package dev.pagoda.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.ThreadMXBean;
import dev.pagoda.kernel.RangeTask;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.model.Model;
import dev.pagoda.sampling.SamplingParams;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Nothing is allocated per decode step by the engine's own code. The bytes counted are the engine thread's
 * ({@link ThreadMXBean#getCurrentThreadAllocatedBytes}, exact per thread) minus what it allocates inside the
 * model's forward pass, measured by wrapping that pass: whether the Vector API kernels box vectors depends on
 * how C2 compiled them (not on the engine), so they are left out here and the figure is deterministic.
 * Interpreted or compiled, engine code that allocates nothing counts zero; what remains is amortized growth
 * (a sequence's token array and text doubling, a KV block table growing), a few bytes per sequence and step.
 */
class StepAllocationTest {
    static final int SEQS = 8;
    static final int TOKENS = 96;
    /**
     * Bytes per sequence and decode step allowed outside the model: amortized growth is ~20-40; the per-token
     * stream outputs this replaced were ~300 (a RequestOutput, its token array and text, a queue node).
     */
    static final long BUDGET_PER_SEQUENCE_STEP = 96;
    /** Rounds at most, after the warm-up one: a hang guard, not a speed limit (see the test). */
    static final int MAX_ROUNDS = 100;

    private static final ThreadMXBean MX = (ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void warmDecodeStepsAllocateNothingOutsideTheModel() throws Exception {
        assertThat(MX.isThreadAllocatedMemorySupported() && MX.isThreadAllocatedMemoryEnabled()).isTrue();
        EngineConfig config = EngineConfig.builder().maxNumSeqs(SEQS).maxNumBatchedTokens(256).maxModelLen(160)
                .enablePrefixCaching(false).build();
        try (Model model = EngineFixtures.stories(); LLMEngine engine = new LLMEngine(model, config)) {
            // Per loop turn with a step: engine-thread bytes outside the forward pass, and whether it decoded all SEQS
            // without refreshing the published metrics (done every EngineMetrics.PERIOD_NANOS: per time, not per step).
            long[] outside = new long[4 * TOKENS];
            boolean[] fullDecode = new boolean[outside.length];
            boolean[] republished = new boolean[outside.length];
            EngineMetrics[] metrics = {engine.metrics()};
            long[] inModel = new long[1];
            int[] turn = new int[1];
            long[] last = new long[1];
            engine.wrapForward(inner -> (batch, logits) -> {
                fullDecode[turn[0]] = batch.seqCount() == SEQS && batch.tokenCount() == SEQS;
                long before = MX.getCurrentThreadAllocatedBytes();
                inner.run(batch, logits);
                inModel[0] += MX.getCurrentThreadAllocatedBytes() - before;
            });
            engine.setStepHook(() -> {
                long now = MX.getCurrentThreadAllocatedBytes();
                outside[turn[0]] = now - last[0] - inModel[0];
                last[0] = now;
                republished[turn[0]] = engine.metrics() != metrics[0];
                metrics[0] = engine.metrics();
                inModel[0] = 0;
                turn[0]++;
            });
            SamplingParams params = SamplingParams.greedy(TOKENS).withIgnoreEos(true).finalOnly();
            // The first round warms up the classes the steps use (loading them allocates). Later rounds run until one has
            // enough steps within the budget: until C2 has compiled them, the Vector API kernels the sampler calls
            // (Ops.argmax) box their vectors, and on a loaded machine C2 can take several rounds to get to them. Engine
            // code that allocates per step fails every round.
            long budget = BUDGET_PER_SEQUENCE_STEP * SEQS;
            long bytes = 0;
            int steps = 0;
            boolean within = false;
            for (int round = 0; round <= MAX_ROUNDS && !within; round++) {
                bytes = 0;
                steps = 0;
                turn[0] = 0;
                // Added together, the engine takes them at one step boundary: every later step decodes all SEQS.
                List<String> ids = new ArrayList<>();
                List<int[]> prompts = new ArrayList<>();
                for (String p : EngineFixtures.prompts(SEQS)) {
                    ids.add("r" + round + ids.size());
                    prompts.add(model.tokenizer().encode(p, true, false));
                }
                List<RequestHandle> handles = engine.addRequests(ids, prompts, params);
                for (RequestHandle h : handles) {
                    assertThat(h.result().join().output().tokenIds()).hasSize(TOKENS);
                }
                engine.awaitIdle();
                // The last step of the full batch ends the first sequences (results are built): left out.
                int lastFull = -1;
                for (int t = 0; t < turn[0]; t++) {
                    lastFull = fullDecode[t] ? t : lastFull;
                }
                for (int t = 0; round > 0 && t < lastFull; t++) {
                    if (fullDecode[t] && !republished[t]) {
                        bytes += outside[t];
                        steps++;
                    }
                }
                within = steps > TOKENS / 4 && bytes / steps <= budget;
            }
            assertThat(steps).as("steps that decoded all %d sequences", SEQS).isGreaterThan(TOKENS / 4);
            assertThat(bytes / steps).as("bytes per decode step of %d sequences outside the model", SEQS)
                    .isLessThanOrEqualTo(budget);
            EngineFixtures.assertAllFree(engine);
        }
    }

    @Test
    void handingWorkToThePoolAllocatesNothing() {
        WorkerPool pool = new WorkerPool(2);
        long[] threads = {Thread.currentThread().threadId(), 0};
        float[] out = new float[1024];
        AtomicLong worker0 = new AtomicLong();
        // the caller's chunk waits for the worker to run one: its thread is then known
        pool.parallelFor(2, (start, end) -> {
            long id = Thread.currentThread().threadId();
            if (id != threads[0]) {
                worker0.set(id);
            }
            while (worker0.get() == 0) {
                Thread.onSpinWait();
            }
        });
        threads[1] = worker0.get();
        // One task object for every call: a capturing lambda written in the loop would be a new object each time.
        RangeTask task = (start, end) -> out[start] += 1;
        for (int i = 0; i < 1000; i++) {
            pool.parallelFor(out.length, task);
        }
        long caller = MX.getThreadAllocatedBytes(threads[0]), worker = MX.getThreadAllocatedBytes(threads[1]);
        for (int i = 0; i < 1000; i++) {
            pool.parallelFor(out.length, task);
        }
        assertThat(MX.getThreadAllocatedBytes(threads[0]) - caller).as("caller bytes over 1000 calls").isLessThan(1000);
        assertThat(MX.getThreadAllocatedBytes(threads[1]) - worker).as("worker bytes over 1000 calls").isLessThan(1000);
    }
}
