package dev.pagoda.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvShape;
import dev.pagoda.kv.SwapSpace;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The scheduling policy alone: no model, an allocator that only counts blocks (or a tiny KV memory where
 * swapping copies bytes). A "step" schedules, advances, and appends one token to every sequence whose
 * tokens are all computed, as the engine does after sampling.
 */
class SchedulerTest {
    private static final int B = 4;

    private static Scheduler<String> scheduler(int blocks, int maxSeqs, int maxTokens, double watermark) {
        return new Scheduler<>(new SchedulerConfig(maxSeqs, maxTokens, PreemptionMode.RECOMPUTE, watermark, false),
                KvAllocator.accounting(KvLayout.PAGED, blocks, B));
    }

    private static Sequence<String> seq(String name, long arrival, int promptLength, int maxLength) {
        return new Sequence<>(name, arrival, new int[promptLength], maxLength);
    }

    /** One step; returns "name:count" per scheduled sequence, in batch order. */
    private static List<String> step(Scheduler<String> s) {
        ScheduledBatch<String> b = s.schedule();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < b.size(); i++) {
            out.add(b.sequence(i).owner() + ":" + b.count(i));
        }
        s.advance(b);
        for (int i = 0; i < b.size(); i++) {
            Sequence<String> q = b.sequence(i);
            if (q.computed() == q.length() && q.length() < q.maxLength()) {
                q.append(7);
            }
        }
        return out;
    }

    private static void finishAll(Scheduler<String> s, List<Sequence<String>> seqs) {
        for (Sequence<String> q : seqs) {
            s.finish(q);
        }
        assertThat(s.hasWork()).isFalse();
        assertThat(s.allocator().usedBlocks()).as("every block back in the pool").isZero();
    }

    @Test
    void admitsUnderTheTokenBudgetAndChunksPrefill() {
        Scheduler<String> s = scheduler(64, 8, 8, 0);
        Sequence<String> a = seq("a", 1, 5, 40), b = seq("b", 2, 13, 40);
        s.addWaiting(a);
        s.addWaiting(b);
        assertThat(step(s)).containsExactly("a:5", "b:3");
        assertThat(step(s)).containsExactly("a:1", "b:7");
        assertThat(step(s)).containsExactly("a:1", "b:3");
        assertThat(b.computed()).as("prompt done in chunks of 3, 7, 3").isEqualTo(13);
        assertThat(b.outputLength()).isEqualTo(1);
        assertThat(step(s)).containsExactly("a:1", "b:1");
        finishAll(s, List.of(a, b));
    }

    @Test
    void watermarkHoldsBackAdmissionOnlyWhileOthersRun() {
        // 10 blocks, watermark 20%: an admission must leave 2 blocks free while something runs.
        Scheduler<String> s = scheduler(10, 8, 64, 0.2);
        Sequence<String> big = seq("big", 1, 8 * B, 40);
        s.addWaiting(big);
        assertThat(step(s)).as("alone, it may take 8 of 10 blocks").containsExactly("big:32");
        Sequence<String> small = seq("small", 2, B, 8);
        s.addWaiting(small);
        // big decodes into its 9th block; small would take the 10th and leave 0 < 2 free.
        assertThat(step(s)).containsExactly("big:1");
        s.finish(big);
        assertThat(step(s)).as("nothing else runs: admitted").containsExactly("small:4");
        finishAll(s, List.of(small));
    }

    @Test
    void growthRoomKeepsABlockForEachRunningSequenceThatWillGrow() {
        // 6 blocks of 4; each sequence has 5 prompt tokens in 2 blocks and grows to 12 tokens in 3.
        Scheduler<String> s = new Scheduler<>(new SchedulerConfig(8, 64, PreemptionMode.RECOMPUTE, 0, true),
                KvAllocator.accounting(KvLayout.PAGED, 6, B));
        Sequence<String> a = seq("a", 1, 5, 12), b = seq("b", 2, 5, 12), c = seq("c", 3, 5, 12);
        s.addWaiting(a);
        s.addWaiting(b);
        s.addWaiting(c);
        assertThat(step(s)).as("c would take the blocks a and b grow into").containsExactly("a:5", "b:5");
        for (int i = 0; i < 7; i++) {
            assertThat(step(s)).containsExactly("a:1", "b:1");
        }
        assertThat(s.recomputePreemptions()).as("vLLM's admission would have let c in, then preempted it").isZero();
        s.finish(a);
        assertThat(step(s)).containsExactly("c:5");
        finishAll(s, List.of(b, c));
    }

    @Test
    void preemptsTheLatestArrivalAndRecomputesIt() {
        // 4 blocks of 4: two sequences of 8 tokens fill them; the first to grow evicts the later one.
        Scheduler<String> s = scheduler(4, 8, 64, 0);
        Sequence<String> early = seq("early", 1, 7, 20), late = seq("late", 2, 7, 20);
        s.addWaiting(early);
        s.addWaiting(late);
        assertThat(step(s)).containsExactly("early:7", "late:7");
        assertThat(step(s)).containsExactly("early:1", "late:1");
        assertThat(step(s)).as("early needs a 3rd block: late is preempted").containsExactly("early:1");
        assertThat(late.status()).isEqualTo(SequenceStatus.WAITING);
        assertThat(late.computed()).isZero();
        assertThat(late.kv()).isNull();
        assertThat(s.recomputePreemptions()).isEqualTo(1);
        s.finish(early);
        assertThat(step(s)).as("recomputes all its tokens, generated ones included").containsExactly("late:9");
        finishAll(s, List.of(late));
    }

    @Test
    void preemptsItselfWhenItIsTheLatest() {
        Scheduler<String> s = scheduler(2, 8, 64, 0);
        Sequence<String> a = seq("a", 1, 8, 20);
        s.addWaiting(a);
        assertThat(step(s)).containsExactly("a:8");
        assertThat(step(s)).as("a 3rd block does not exist: a preempts itself").isEmpty();
        assertThat(a.status()).isEqualTo(SequenceStatus.WAITING);
        assertThat(s.allocator().usedBlocks()).isZero();
        finishAll(s, List.of(a));
    }

    @Test
    void swapsOutTheLatestAndBringsItBackBeforeNewAdmissions() {
        KvShape shape = new KvShape(1, 1, 4, B, KvDtype.F32);
        try (KvMemory memory = KvMemory.ofBlocks(shape, 4); SwapSpace swap = new SwapSpace(memory, 4L * B * shape.bytesPerToken())) {
            Scheduler<String> s = new Scheduler<>(new SchedulerConfig(8, 64, PreemptionMode.SWAP, 0, false),
                    KvAllocator.create(KvLayout.PAGED, memory, false, swap));
            Sequence<String> early = seq("early", 1, 7, 20), late = seq("late", 2, 7, 20), fresh = seq("fresh", 3, 2, 4);
            s.addWaiting(early);
            s.addWaiting(late);
            assertThat(step(s)).containsExactly("early:7", "late:7");
            float[] row = {1, 2, 3, 4};
            for (int p = 0; p < 7; p++) {
                row[0] = p;
                memory.writeToken(0, KvMemory.K, late.kv().slotFor(p), row, 0);
            }
            assertThat(step(s)).containsExactly("early:1", "late:1");
            s.addWaiting(fresh);
            assertThat(step(s)).as("late swaps out; no admission in a step that preempted").containsExactly("early:1");
            assertThat(late.status()).isEqualTo(SequenceStatus.SWAPPED);
            assertThat(late.computed()).as("swapping keeps the computed K/V").isEqualTo(8);
            assertThat(s.swapPreemptions()).isEqualTo(1);
            assertThat(swap.isEmpty()).isFalse();
            s.finish(early);
            assertThat(step(s)).as("swapped back first, then fresh").containsExactly("late:1", "fresh:2");
            assertThat(swap.isEmpty()).isTrue();
            float[] back = new float[4];
            for (int p = 0; p < 7; p++) {
                memory.readToken(0, KvMemory.K, late.kv().slotFor(p), back, 0);
                assertThat(back[0]).as("position %d came back", p).isEqualTo(p);
            }
            finishAll(s, List.of(late, fresh));
        }
    }

    @Test
    void maxNumSeqsCountsTheSeatsOfParentsThatWillFork() {
        Scheduler<String> s = scheduler(64, 4, 64, 0);
        Sequence<String> parent = seq("parent", 1, 5, 20), other = seq("other", 2, 5, 20);
        parent.setSeats(3);
        s.addWaiting(parent);
        s.addWaiting(other);
        assertThat(step(s)).as("3 seats + 1 fit in 4").containsExactly("parent:5", "other:5");
        Sequence<String> third = seq("third", 3, 5, 20);
        s.addWaiting(third);
        Sequence<String> c1 = s.fork(parent, "c1"), c2 = s.fork(parent, "c2");
        parent.setSeats(1);
        assertThat(c1.computed()).isEqualTo(parent.computed());
        assertThat(step(s)).as("4 running: no seat for third").containsExactly("parent:1", "other:1", "c1:1", "c2:1");
        s.finish(c2);
        assertThat(step(s)).containsExactly("parent:1", "other:1", "c1:1", "third:5");
        finishAll(s, List.of(parent, other, c1, third));
    }

    @Test
    void aSequenceThatCanNeverFitWaitsWithoutDisturbingOthers() {
        Scheduler<String> s = scheduler(4, 8, 64, 0);
        Sequence<String> runner = seq("runner", 1, 3, 6), huge = seq("huge", 2, 5 * B, 40);
        s.addWaiting(runner);
        s.addWaiting(huge);
        for (int i = 0; i < 4; i++) {
            assertThat(step(s)).containsExactly("runner:" + (i == 0 ? 3 : 1));
            assertThat(huge.status()).isEqualTo(SequenceStatus.WAITING);
        }
        assertThat(runner.computed()).isEqualTo(runner.maxLength());
        assertThat(s.recomputePreemptions()).isZero();
        assertThat(step(s)).as("runner is done growing; huge still cannot be placed").containsExactly();
        finishAll(s, List.of(runner, huge));
    }

    @Test
    void preemptsTheLatestRequestWithAllItsSequences() {
        // 6 blocks of 4. "early" (1 sequence) and "late" (forked into 3) fill them; early's 3rd block then needs
        // one of late's: all of late goes back, in its order, though freeing one sequence would do.
        Scheduler<String> s = scheduler(6, 8, 64, 0);
        Sequence<String> early = seq("early", 1, 7, 20), late = seq("late", 2, 6, 20);
        s.addWaiting(early);
        s.addWaiting(late);
        assertThat(step(s)).containsExactly("early:7", "late:6");
        Sequence<String> l1 = s.fork(late, "l1"), l2 = s.fork(late, "l2");
        assertThat(step(s)).containsExactly("early:1", "late:1", "l1:1", "l2:1");
        assertThat(s.allocator().usedBlocks()).as("early 2, late 2 shared + 2 copy-on-write copies").isEqualTo(6);
        assertThat(step(s)).as("early's 3rd block evicts late's whole group").containsExactly("early:1");
        for (Sequence<String> q : List.of(late, l1, l2)) {
            assertThat(q.status()).isEqualTo(SequenceStatus.WAITING);
            assertThat(q.kv()).isNull();
        }
        assertThat(s.recomputePreemptions()).as("one request preempted").isEqualTo(1);
        assertThat(s.nextWaiting()).isSameAs(late);
        s.finish(early);
        assertThat(step(s)).as("the group comes back whole; its leader recomputes their 7 common tokens")
                .containsExactly("late:7");
        assertThat(step(s)).as("then the others fork from it").containsExactly("late:1", "l1:1", "l2:1");
        finishAll(s, List.of(late, l1, l2));
    }

    /**
     * 6 blocks of 4. "late" (9 prompt tokens) forks l1 after its prefill; the two differ from their 11th token.
     * early's 3rd block then evicts their group, and early finishes. Returns late, l1 (waiting).
     */
    private static List<Sequence<String>> preemptedPair(Scheduler<String> s) {
        Sequence<String> early = seq("early", 1, 7, 20), late = seq("late", 2, 9, 20);
        s.addWaiting(early);
        s.addWaiting(late);
        assertThat(step(s)).containsExactly("early:7", "late:9");
        Sequence<String> l1 = s.fork(late, "l1");
        s.advance(s.schedule());
        early.append(7);
        late.append(1);
        l1.append(2);
        assertThat(s.allocator().usedBlocks()).as("early 2, late 3 shared + 1 copy-on-write copy").isEqualTo(6);
        assertThat(step(s)).as("early's 3rd block evicts the group").containsExactly("early:1");
        s.finish(early);
        return List.of(late, l1);
    }

    @Test
    void aRecomputedGroupSharesItsCommonPrefixAgain() {
        Scheduler<String> s = scheduler(6, 8, 64, 0);
        List<Sequence<String>> group = preemptedPair(s);
        Sequence<String> l1 = group.get(1);
        assertThat(step(s)).as("the leader recomputes the 10 common tokens alone").containsExactly("late:10");
        assertThat(l1.kv()).as("l1 forked from it").isNotNull();
        assertThat(l1.computed()).isEqualTo(10);
        assertThat(s.allocator().usedBlocks()).as("3 blocks, shared").isEqualTo(3);
        assertThat(step(s)).as("each computes its own last token").containsExactly("late:1", "l1:1");
        assertThat(s.allocator().usage(0).blocksShared()).as("the 2 full blocks stay shared").isEqualTo(2);
        assertThat(s.allocator().usedBlocks()).as("2 shared + the last block and its copy; private copies take 6")
                .isEqualTo(4);
        finishAll(s, group);
    }

    @Test
    void aFollowerWhoseLeaderLeavesRecomputesPrivately() {
        Scheduler<String> s = scheduler(6, 8, 64, 0);
        List<Sequence<String>> group = preemptedPair(s);
        s.finish(group.get(0));
        assertThat(step(s)).containsExactly("l1:11");
        finishAll(s, group);
    }

    @Test
    void aGroupIsAdmittedWholeOrNotAtAll() {
        Scheduler<String> s = scheduler(4, 8, 64, 0);
        Sequence<String> runner = seq("runner", 1, 4, 6);
        // Two sequences of one request (same arrival), 2 blocks each: beside runner, only one fits.
        Sequence<String> a = seq("a", 2, 5, 8), b = seq("b", 2, 5, 8);
        s.addWaiting(runner);
        s.addWaiting(a);
        s.addWaiting(b);
        assertThat(step(s)).containsExactly("runner:4");
        assertThat(step(s)).as("a alone would fit; without b it does not start").containsExactly("runner:1");
        assertThat(a.status()).isEqualTo(SequenceStatus.WAITING);
        assertThat(s.allocator().usedBlocks()).as("the partial placement was rolled back").isEqualTo(2);
        s.finish(runner);
        assertThat(step(s)).containsExactly("a:5", "b:5");
        finishAll(s, List.of(a, b));
    }

    @Test
    void aGroupThatCannotFitWithNothingElseRunningIsIgnored() {
        // 4 blocks; three sequences of one request need 2 blocks each. "next" waits behind it and runs after.
        Scheduler<String> s = scheduler(4, 8, 64, 0);
        List<Sequence<String>> group = List.of(seq("g0", 1, 5, 8), seq("g1", 1, 5, 8), seq("g2", 1, 5, 8));
        group.forEach(s::addWaiting);
        Sequence<String> next = seq("next", 2, 3, 6);
        s.addWaiting(next);
        ScheduledBatch<String> b = s.schedule();
        assertThat(b.ignored()).containsExactlyElementsOf(group);
        assertThat(b.size()).isEqualTo(1);
        assertThat(b.sequence(0)).isSameAs(next);
        for (Sequence<String> q : group) {
            assertThat(q.status()).isEqualTo(SequenceStatus.FINISHED);
            assertThat(q.kv()).isNull();
        }
        s.advance(b);
        assertThat(s.allocator().usedBlocks()).as("nothing of the group is held").isEqualTo(1);
        finishAll(s, List.of(next));
    }

    /**
     * Beam-search-like requests under memory pressure: a request forks into {@code width} sequences after its
     * prefill, and its sequences get their next tokens only together, once each has its logits (as beam selection
     * needs). Preempting one sequence at a time deadlocked here: idle beams held the blocks a preempted sibling
     * needed to come back. Preempting requests whole, every request finishes.
     */
    @Test
    void requestsWhoseSequencesAdvanceTogetherAllFinishUnderPressure() {
        int width = 3;
        Scheduler<String> s = scheduler(12, 16, 64, 0.01);
        Map<Long, List<Sequence<String>>> requests = new LinkedHashMap<>();
        for (long r = 0; r < 4; r++) {
            Sequence<String> first = seq("r" + r, r, 5, 16);
            s.addWaiting(first);
            requests.put(r, new ArrayList<>(List.of(first)));
        }
        int steps = 0;
        while (s.hasWork()) {
            assertThat(++steps).as("steps").isLessThan(2000);
            s.advance(s.schedule());
            for (List<Sequence<String>> seqs : requests.values()) {
                if (seqs.isEmpty() || !seqs.stream().allMatch(q -> q.status() == SequenceStatus.RUNNING && q.computed() == q.length())) {
                    continue;
                }
                Sequence<String> first = seqs.getFirst();
                if (first.length() == first.maxLength()) {
                    seqs.forEach(s::finish);
                    seqs.clear();
                    continue;
                }
                while (seqs.size() < width) {
                    seqs.add(s.fork(first, first.owner() + "." + seqs.size()));
                }
                seqs.forEach(q -> q.append(seqs.indexOf(q)));
            }
        }
        assertThat(requests.values()).allMatch(List::isEmpty);
        assertThat(s.recomputePreemptions()).as("memory was short").isPositive();
        assertThat(s.allocator().usedBlocks()).isZero();
    }
}
