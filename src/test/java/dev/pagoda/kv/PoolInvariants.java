package dev.pagoda.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.List;

/** The block pool's invariants against the tables that hold blocks, checked after every step of the random tests. */
final class PoolInvariants {
    private PoolInvariants() {
    }

    /**
     * Ref counts equal the number of tables holding each block (a released block, out of the window, is a hole
     * holding nothing); a block is on the free queue exactly when nothing holds it; tables take whole blocks for
     * their length; the accounting adds up.
     */
    static void check(PagedAllocator allocator, List<BlockTable> tables, int blockSize) {
        BlockPool pool = allocator.pool();
        int[] holders = new int[pool.numBlocks()];
        long lengths = 0;
        for (BlockTable t : tables) {
            lengths += t.length();
            assertThat(t.numBlocks()).isEqualTo((t.length() + blockSize - 1) / blockSize);
            for (int j = 0; j < t.numBlocks(); j++) {
                if (j < t.releasedBlocks()) {
                    assertThat(t.blockId(j)).as("a released block is a hole").isEqualTo(BlockTable.RELEASED);
                } else {
                    holders[t.blockId(j)]++;
                }
            }
        }
        int referenced = 0;
        for (int id = 0; id < pool.numBlocks(); id++) {
            PhysicalBlock b = pool.block(id);
            if (b.refCount() != holders[id]) {
                fail("block " + id + " has ref count " + b.refCount() + " but " + holders[id] + " holders");
            }
            if (FreeBlockQueue.isLinked(b) != (holders[id] == 0)) {
                fail("block " + id + " free queue membership disagrees with its " + holders[id] + " holders");
            }
            if (holders[id] > 0) {
                referenced++;
            }
        }
        assertThat(pool.freeBlocks() + referenced).isEqualTo(pool.numBlocks());
        KvMemoryUsage usage = allocator.usage(1);
        assertThat(usage.sequenceTokens()).isEqualTo(lengths);
        assertThat(usage.sequences()).isEqualTo(tables.size());
        assertThat(usage.blocksUsed()).isEqualTo(referenced);
        assertThat(usage.blocksFree()).isEqualTo(pool.numBlocks() - referenced);
        assertThat(usage.tokenSlots() + usage.internalFragmentation()).isEqualTo((long) referenced * blockSize);
        assertThat(usage.tokenSlots()).isLessThanOrEqualTo(lengths);
        assertThat(usage.tokenSlots() + usage.internalFragmentation() + usage.freeSlots()).isEqualTo(usage.totalSlots());
    }
}
