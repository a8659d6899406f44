package dev.pagoda.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PagedAllocatorTest {
    private final PagedAllocator allocator = (PagedAllocator) KvAllocator.accounting(KvLayout.PAGED, 8, 4);

    @Test
    void takesABlockOnlyWhenTheLastIsFull() {
        BlockTable t = (BlockTable) allocator.admit(5, 100);
        assertThat(t.numBlocks()).isEqualTo(2);
        assertThat(allocator.blocksNeededToAppend(t, 3)).isZero();
        allocator.append(t, 3);
        assertThat(t.numBlocks()).isEqualTo(2);
        assertThat(allocator.blocksNeededToAppend(t, 1)).isEqualTo(1);
        allocator.append(t, 1);
        assertThat(t.slotFor(8)).isEqualTo(t.blockId(2) * 4);
        assertThat(t.slotFor(6)).isEqualTo(t.blockId(1) * 4 + 2);
        KvMemoryUsage u = allocator.usage(1);
        assertThat(u.tokenSlots()).isEqualTo(9);
        assertThat(u.internalFragmentation()).isEqualTo(3);
        assertThat(u.externalFragmentation()).isZero();
    }

    @Test
    void appendNeverHalfAllocates() {
        BlockTable t = (BlockTable) allocator.admit(28, 40); // 7 of 8 blocks
        assertThat(allocator.canAppend(t, 5)).isFalse();
        assertThatThrownBy(() -> allocator.append(t, 5)).isInstanceOf(IllegalStateException.class);
        assertThat(t.length()).isEqualTo(28);
        assertThat(allocator.pool().freeBlocks()).isEqualTo(1);
    }

    @Test
    void forkSharesAndWritingIntoASharedBlockCopiesIt() {
        BlockTable parent = (BlockTable) allocator.admit(6, 20);
        BlockTable child = allocator.fork(parent);
        assertThat(allocator.usage(1).blocksShared()).isEqualTo(2);
        assertThat(allocator.usage(1).tokenSlots()).as("shared tokens count once").isEqualTo(6);
        assertThat(allocator.usage(1).sequenceTokens()).isEqualTo(12);
        assertThat(allocator.blocksNeededToAppend(child, 1)).as("copy of the shared, partly filled last block")
                .isEqualTo(1);
        int sharedLast = parent.blockId(1);
        allocator.append(child, 1);
        assertThat(child.blockId(1)).isNotEqualTo(sharedLast);
        assertThat(child.blockId(0)).isEqualTo(parent.blockId(0));
        assertThat(parent.blockId(1)).isEqualTo(sharedLast);
        assertThat(allocator.pool().block(sharedLast).refCount()).isEqualTo(1);
        assertThat(allocator.blocksNeededToAppend(parent, 1)).as("no longer shared: written in place").isZero();
        assertThat(allocator.copyOnWriteCopies()).isEqualTo(1);
        allocator.free(parent);
        allocator.free(child);
        assertThat(allocator.pool().freeBlocks()).isEqualTo(8);
    }

    @Test
    void freeQueueSupportsRemovalFromTheMiddle() {
        BlockPool pool = new BlockPool(4, 16);
        int a = pool.allocate();
        int b = pool.allocate();
        int c = pool.allocate();
        pool.free(a);
        pool.free(b);
        pool.free(c);
        pool.touch(b); // a cache hit revives a free block from the middle of the queue
        assertThat(pool.freeBlocks()).isEqualTo(3);
        assertThat(new int[] {pool.allocate(), pool.allocate(), pool.allocate()}).containsExactly(3, a, c);
        pool.free(3);
        assertThatThrownBy(() -> pool.free(3)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> pool.allocate(2)).as("all or none").isInstanceOf(IllegalStateException.class);
        assertThat(pool.freeBlocks()).isEqualTo(1);
        assertThat(pool.allocate(1)).containsExactly(3);
    }
}
