package dev.pagoda.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvShape;
import dev.pagoda.kv.SwapSpace;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The scheduler over a paged allocator with a sliding window on every layer (no model): each step releases the
 * blocks out of the window, so sequences far longer than the window, and than the whole cache, run in a few
 * blocks each, through chunked prefill, preemption by recomputation and by swapping, and forks.
 */
class SlidingWindowSchedulingTest {
    private static final int B = 4;
    private static final int W = 8;

    /** One step as the engine runs it; returns the most blocks in use right after the step's allocation. */
    private static int step(Scheduler<String> s) {
        ScheduledBatch<String> b = s.schedule();
        int used = s.allocator().usedBlocks();
        s.advance(b);
        for (int i = 0; i < b.size(); i++) {
            Sequence<String> q = b.sequence(i);
            if (q.computed() == q.length()) {
                if (q.length() == q.maxLength()) {
                    s.finish(q);
                } else {
                    q.append(q.length() % 7);
                }
            }
        }
        return used;
    }

    private static int runToEnd(Scheduler<String> s) {
        int peak = 0;
        for (int steps = 0; s.hasWork(); steps++) {
            assertThat(steps).as("the work finishes").isLessThan(10_000);
            peak = Math.max(peak, step(s));
        }
        assertThat(s.allocator().usedBlocks()).as("every block back in the pool").isZero();
        return peak;
    }

    @Test
    void aSequenceLongerThanTheCacheRunsInItsWindow() {
        // 6 blocks hold 24 slots; the sequence grows to 100 tokens, prefilled in chunks of 5.
        Scheduler<String> s = new Scheduler<>(new SchedulerConfig(4, 5, PreemptionMode.RECOMPUTE, 0, false),
                KvAllocator.accounting(KvLayout.PAGED, 6, B, W));
        Sequence<String> a = new Sequence<>("a", 1, new int[30], 100);
        s.addWaiting(a);
        int peak = runToEnd(s);
        assertThat(a.status()).isEqualTo(SequenceStatus.FINISHED);
        assertThat(peak).as("window and a chunk: ceil((W - 1 + 5) / B) + 1 blocks at most")
                .isLessThanOrEqualTo(KvAllocator.slotsHeldAtMost(KvLayout.PAGED, B, W, 100, 5) / B);
        assertThat(s.recomputePreemptions()).isZero();
    }

    @Test
    void sequencesPreemptedByRecomputationReleaseAgainAfterTheirRecomputedPrompt() {
        // Three sequences of 60 tokens in 8 blocks: each needs 3 or 4, so one is preempted and recomputed.
        Scheduler<String> s = new Scheduler<>(new SchedulerConfig(4, 16, PreemptionMode.RECOMPUTE, 0, false),
                KvAllocator.accounting(KvLayout.PAGED, 8, B, W));
        List<Sequence<String>> seqs = List.of(new Sequence<>("a", 1, new int[7], 60),
                new Sequence<>("b", 2, new int[9], 60), new Sequence<>("c", 3, new int[6], 60));
        seqs.forEach(s::addWaiting);
        runToEnd(s);
        assertThat(s.recomputePreemptions()).as("preemption exercised").isPositive();
        assertThat(seqs).allMatch(q -> q.status() == SequenceStatus.FINISHED && q.length() == 60);
    }

    @Test
    void swappedSequencesComeBackWithTheirHoles() {
        KvShape shape = new KvShape(1, 1, 2, B, KvDtype.F32);
        try (KvMemory memory = KvMemory.ofBlocks(shape, 8); SwapSpace swap = new SwapSpace(memory, 8L * B * shape.bytesPerToken())) {
            Scheduler<String> s = new Scheduler<>(new SchedulerConfig(4, 16, PreemptionMode.SWAP, 0, false),
                    KvAllocator.create(KvLayout.PAGED, memory, true, swap, W));
            List<Sequence<String>> seqs = List.of(new Sequence<>("a", 1, new int[7], 60),
                    new Sequence<>("b", 2, new int[9], 60), new Sequence<>("c", 3, new int[6], 60));
            seqs.forEach(s::addWaiting);
            runToEnd(s);
            assertThat(s.swapPreemptions()).as("swapping exercised").isPositive();
            assertThat(swap.isEmpty()).isTrue();
            assertThat(seqs).allMatch(q -> q.status() == SequenceStatus.FINISHED && q.length() == 60);
        }
    }

    @Test
    void forksShareTheWindowAndEachReleasesItsOwnReferences() {
        Scheduler<String> s = new Scheduler<>(new SchedulerConfig(4, 16, PreemptionMode.RECOMPUTE, 0, false),
                KvAllocator.accounting(KvLayout.PAGED, 16, B, W));
        Sequence<String> parent = new Sequence<>("p", 1, new int[10], 50);
        s.addWaiting(parent);
        step(s);
        assertThat(parent.kv().releasedBlocks()).as("position 10 reads 3..10: no whole block out").isZero();
        step(s);
        assertThat(parent.kv().releasedBlocks()).as("position 11 reads 4..11").isEqualTo(1);
        Sequence<String> child = s.fork(parent, "c");
        assertThat(child.kv().releasedBlocks()).isEqualTo(1);
        int peak = runToEnd(s);
        assertThat(peak).as("two sequences sharing all but their last blocks").isLessThanOrEqualTo(2 * (W / B + 2));
        assertThat(child.status()).isEqualTo(SequenceStatus.FINISHED);
    }
}
