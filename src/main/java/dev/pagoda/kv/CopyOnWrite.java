package dev.pagoda.kv;

/**
 * Copy-on-write of shared blocks. A block held by several tables (ref count > 1) is never written: before a
 * sequence writes into it, the block's content (every layer, K and V) is copied into a fresh block, the
 * writer's table is repointed at the copy, and the writer's reference to the original is dropped. Other
 * holders keep reading the original, unchanged.
 */
final class CopyOnWrite {
    private final BlockPool pool;
    private final BlockCopier copier;
    private long copies;

    CopyOnWrite(BlockPool pool, BlockCopier copier) {
        this.pool = pool;
        this.copier = copier;
    }

    /** Whether appending to {@code table} writes into a shared block (its last block is partly filled and shared). */
    boolean appendNeedsCopy(BlockTable table) {
        return table.lastBlockFill() != 0 && pool.block(table.blockId(table.numBlocks() - 1)).refCount > 1;
    }

    /** Makes logical block {@code j} of {@code table} private to it; needs one free block when it is shared. */
    void makeWritable(BlockTable table, int j) {
        int shared = table.blockId(j);
        PhysicalBlock original = pool.block(shared);
        if (original.refCount <= 1) {
            return;
        }
        int copy = pool.allocate();
        copier.copyBlock(shared, copy);
        pool.block(copy).filled = original.filled;
        pool.block(copy).copied = true;
        pool.free(shared);
        table.setBlock(j, copy);
        copies++;
    }

    /** Blocks copied so far. */
    long copies() {
        return copies;
    }
}
