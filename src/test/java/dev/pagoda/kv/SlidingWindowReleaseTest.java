package dev.pagoda.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The paged allocator with a sliding window W on every layer: a query at position p reads p - W + 1 .. p, so after
 * a step that computed positions up to c - 1, every block ending at or before c - W + 1 is released (a hole in the
 * table; one reference fewer on the block).
 */
class SlidingWindowReleaseTest {
    private static final int B = 4;
    private static final int W = 6;

    private static int[] range(int from, int to) {
        return IntStream.range(from, to).toArray();
    }

    @Test
    void releasesEveryBlockBeforeTheWindowOfTheNextPosition() {
        PagedAllocator allocator = (PagedAllocator) KvAllocator.accounting(KvLayout.PAGED, 16, B, W);
        BlockTable t = (BlockTable) allocator.admit(10, 100);
        allocator.releaseOutOfWindow(t, 9);
        assertThat(t.releasedBlocks()).as("position 9 reads 4..9: block 0 is out").isEqualTo(1);
        int first = t.blockId(0);
        assertThat(first).isEqualTo(BlockTable.RELEASED);
        allocator.releaseOutOfWindow(t, 10);
        assertThat(t.releasedBlocks()).as("position 10 reads 5..10: block 1 still in").isEqualTo(1);
        assertThat(allocator.usedBlocks()).isEqualTo(2);
        assertThatThrownBy(() -> t.slotFor(3)).as("a hole is never read").isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> t.blockSlotStart(0)).isInstanceOf(IllegalStateException.class);
        assertThat(t.slotFor(4)).isEqualTo(t.blockId(1) * B);
        allocator.append(t, 3);
        allocator.releaseOutOfWindow(t, 13);
        assertThat(t.releasedBlocks()).as("position 13 reads 8..13").isEqualTo(2);
        assertThat(t.numBlocks()).as("the table keeps its logical blocks").isEqualTo(4);
        KvMemoryUsage u = allocator.usage(1);
        assertThat(u.blocksUsed()).isEqualTo(2);
        assertThat(u.tokenSlots()).as("tokens 8..12 held").isEqualTo(5);
        assertThat(u.sequenceTokens()).as("the sequence is still 13 tokens long").isEqualTo(13);
        allocator.free(t);
        assertThat(allocator.usedBlocks()).isZero();
        assertThat(allocator.pool().freeBlocks()).isEqualTo(16);
    }

    @Test
    void aWindowOfOneCanReleaseTheLastBlockAndTheNextAppendTakesAFreshOne() {
        PagedAllocator allocator = (PagedAllocator) KvAllocator.accounting(KvLayout.PAGED, 4, B, 1);
        BlockTable t = (BlockTable) allocator.admit(8, 40);
        allocator.releaseOutOfWindow(t, 8);
        assertThat(t.releasedBlocks()).isEqualTo(2);
        assertThat(allocator.usedBlocks()).isZero();
        assertThat(allocator.blocksNeededToAppend(t, 1)).isEqualTo(1);
        allocator.append(t, 1);
        assertThat(t.slotFor(8)).isEqualTo(t.blockId(2) * B);
        allocator.free(t);
        assertThat(allocator.pool().freeBlocks()).isEqualTo(4);
    }

    @Test
    void aForkSharesOnlyHeldBlocksAndEachHolderReleasesItsOwnReference() {
        PagedAllocator allocator = (PagedAllocator) KvAllocator.accounting(KvLayout.PAGED, 16, B, W);
        BlockTable parent = (BlockTable) allocator.admit(14, 100);
        allocator.releaseOutOfWindow(parent, 14);
        assertThat(parent.releasedBlocks()).isEqualTo(2);
        BlockTable child = allocator.fork(parent);
        assertThat(child.releasedBlocks()).isEqualTo(2);
        int shared = parent.blockId(2);
        assertThat(allocator.pool().block(shared).refCount()).isEqualTo(2);
        allocator.append(child, 3);
        allocator.releaseOutOfWindow(child, 17);
        assertThat(child.releasedBlocks()).isEqualTo(3);
        assertThat(allocator.pool().block(shared).refCount()).as("the parent still holds it").isEqualTo(1);
        assertThat(parent.blockId(2)).isEqualTo(shared);
        allocator.free(parent);
        allocator.free(child);
        assertThat(allocator.pool().freeBlocks()).isEqualTo(16);
    }

    /**
     * A released cached block stays on the free queue with its hash: a later sequence with the same prefix hits
     * the whole chain, and takes only the hit blocks its window reaches. Once the first block is evicted, nothing
     * hits (the chain starts there).
     */
    @Test
    void releasedCachedBlocksStillServeHitsUntilEvicted() {
        PagedAllocator allocator = new PagedAllocator(8, B, BlockCopier.NONE, new Sha256BlockHasher(), null, W);
        int[] tokens = range(100, 121);
        PrefixHit none = allocator.lookupPrefix(tokens, 16);
        BlockTable first = allocator.admitCached(none, 16, 40);
        assertThatThrownBy(() -> allocator.releaseOutOfWindow(first, 16)).as("blocks are cached before release")
                .isInstanceOf(IllegalStateException.class);
        allocator.cacheFullBlocks(first, tokens, 16);
        allocator.releaseOutOfWindow(first, 16);
        assertThat(first.releasedBlocks()).as("position 16 reads 11..16").isEqualTo(2);
        assertThat(allocator.pool().cachedFreeBlocks()).as("released, still cached").isEqualTo(2);

        PrefixHit hit = allocator.lookupPrefix(tokens, 21);
        assertThat(hit.cachedTokens()).as("the whole chain hits, released blocks included").isEqualTo(16);
        assertThat(allocator.blocksToAdmit(hit, 5)).as("two fresh blocks; the hit blocks out of the window of"
                + " position 16 are not taken, the others are held already").isEqualTo(2);
        BlockTable second = allocator.admitCached(hit, 5, 40);
        assertThat(second.releasedBlocks()).isEqualTo(2);
        assertThat(second.blockId(2)).isEqualTo(first.blockId(2));
        assertThat(allocator.pool().cachedFreeBlocks()).as("the released hit blocks stay free").isEqualTo(2);
        allocator.free(first);
        allocator.free(second);

        // Evict the first block of the chain: 8 free blocks, popped least recently freed first.
        BlockTable filler = (BlockTable) allocator.admit(8 * B, 8 * B);
        allocator.free(filler);
        assertThat(allocator.lookupPrefix(tokens, 21).cachedTokens()).isZero();
        assertThat(allocator.pool().freeBlocks()).isEqualTo(8);
    }

    /** Swapping copies only the held blocks; they come back into a table with the same holes. */
    @Test
    void swapCopiesOnlyHeldBlocksAndSwapInKeepsTheHoles() {
        KvShape shape = new KvShape(1, 1, 2, B, KvDtype.F32);
        try (KvMemory memory = KvMemory.ofBlocks(shape, 8); SwapSpace swap = new SwapSpace(memory, 3L * B * shape.bytesPerToken())) {
            KvAllocator allocator = KvAllocator.create(KvLayout.PAGED, memory, true, swap, W);
            int[] tokens = range(0, 14);
            KvSequence seq = allocator.allocate(PrefixHit.none(B), 14, 40, 0);
            float[] row = new float[2];
            for (int p = 0; p < 14; p++) {
                row[0] = p;
                memory.writeToken(0, KvMemory.K, seq.slotFor(p), row, 0);
            }
            seq.cacheFullBlocks(tokens, 14);
            seq.releaseOutOfWindow(14);
            assertThat(seq.releasedBlocks()).isEqualTo(2);
            SwapSpace.Handle h = seq.swapOut(14);
            assertThat(h).as("2 held blocks fit in 3 swap blocks; all 4 would not").isNotNull();
            assertThat(swap.freeBlocks()).isEqualTo(1);
            assertThat(allocator.usedBlocks()).isZero();

            KvSequence back = allocator.swapIn(h, 1, 40, 0);
            assertThat(back.releasedBlocks()).isEqualTo(2);
            assertThat(back.length()).isEqualTo(15);
            assertThat(allocator.usedBlocks()).isEqualTo(2);
            assertThat(swap.isEmpty()).isTrue();
            for (int p = 8; p < 14; p++) {
                memory.readToken(0, KvMemory.K, back.slotFor(p), row, 0);
                assertThat(row[0]).as("position %d came back", p).isEqualTo(p);
            }
            back.cacheFullBlocks(range(0, 15), 15);
            back.releaseOutOfWindow(15);
            back.free();
            assertThat(allocator.usedBlocks()).isZero();
        }
    }

    /** A step's chunk and the window before it span at most ceil((W - 1 + chunk) / B) + 1 blocks. */
    @Test
    void slotsASequenceHoldsAtMost() {
        assertThat(KvAllocator.slotsHeldAtMost(KvLayout.PAGED, 16, 0, 4096, 512)).isEqualTo(4096);
        assertThat(KvAllocator.slotsHeldAtMost(KvLayout.CONTIGUOUS, 16, 2047, 4096, 512)).isEqualTo(4096);
        assertThat(KvAllocator.slotsHeldAtMost(KvLayout.PAGED, 16, 2047, 32768, 1)).as("vLLM's ceil(W/B)+1 blocks")
                .isEqualTo((2047 / 16 + 1 + 1) * 16);
        assertThat(KvAllocator.slotsHeldAtMost(KvLayout.PAGED, 16, 2047, 32768, 512)).isEqualTo((160 + 1) * 16);
        assertThat(KvAllocator.slotsHeldAtMost(KvLayout.PAGED, 16, 2047, 1000, 512)).isEqualTo(1000);
    }
}
