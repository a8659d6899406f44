package dev.pagoda.kv;

/**
 * All physical blocks, with the free queue and reference counts. A block is free exactly when its ref count
 * is 0. Not thread-safe: owned by the scheduler thread.
 */
public final class BlockPool {
    private final PhysicalBlock[] blocks;
    private final FreeBlockQueue free = new FreeBlockQueue();
    private final int blockSize;

    public BlockPool(int numBlocks, int blockSize) {
        KvShape.checkBlockSize(blockSize);
        if (numBlocks < 1) {
            throw new IllegalArgumentException("block pool needs at least one block, got " + numBlocks);
        }
        this.blockSize = blockSize;
        blocks = new PhysicalBlock[numBlocks];
        for (int i = 0; i < numBlocks; i++) {
            blocks[i] = new PhysicalBlock(i);
            free.append(blocks[i]);
        }
    }

    public int numBlocks() {
        return blocks.length;
    }

    public int blockSize() {
        return blockSize;
    }

    public int freeBlocks() {
        return free.size();
    }

    public int usedBlocks() {
        return blocks.length - free.size();
    }

    public PhysicalBlock block(int id) {
        return blocks[id];
    }

    public boolean canAllocate(int n) {
        return n <= free.size();
    }

    /** Pops one free block (dropping any stale cached hash); its ref count becomes 1 and it holds no tokens. */
    public int allocate() {
        PhysicalBlock b = free.popFront();
        b.contentHash = null;
        b.refCount = 1;
        b.filled = 0;
        return b.id;
    }

    /** {@code n} new blocks, all or none. */
    public int[] allocate(int n) {
        if (!canAllocate(n)) {
            throw new IllegalStateException("cannot allocate " + n + " blocks, " + free.size() + " free");
        }
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = allocate();
        }
        return ids;
    }

    /** One more holder of a block in use (a forked table). A free block is revived by {@link #touch}. */
    public void share(int id) {
        PhysicalBlock b = blocks[id];
        if (b.refCount < 1) {
            throw new IllegalStateException("cannot share free block " + id);
        }
        b.refCount++;
    }

    /** One more holder of a block that may be free (a prefix-cache hit): a free block leaves the free queue. */
    public void touch(int id) {
        PhysicalBlock b = blocks[id];
        if (b.refCount == 0) {
            free.remove(b);
        }
        b.refCount++;
    }

    /** One holder fewer; at 0 the block goes to the back of the free queue (keeping its hash). */
    public void free(int id) {
        PhysicalBlock b = blocks[id];
        if (b.refCount < 1) {
            throw new IllegalStateException("double free of block " + id);
        }
        if (--b.refCount == 0) {
            free.append(b);
        }
    }
}
