package dev.pagoda.kv;

import java.util.HashMap;
import java.util.Map;

/**
 * All physical blocks, with the free queue, reference counts and the prefix cache map (hash -> cached block).
 * A block is free exactly when its ref count is 0. A freed block keeps its hash, so it is still a cache hit,
 * until it is popped from the free queue for reuse: the free queue is the eviction order (LRU).
 * Not thread-safe: owned by the scheduler thread.
 */
public final class BlockPool {
    private final PhysicalBlock[] blocks;
    private final FreeBlockQueue free = new FreeBlockQueue();
    private final Map<BlockHash, PhysicalBlock> cached = new HashMap<>();
    private final int blockSize;
    private int cachedFree;
    private long evictions;

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

    /** Free blocks, cached ones included (a cached free block is reused when needed). */
    public int freeBlocks() {
        return free.size();
    }

    public int usedBlocks() {
        return blocks.length - free.size();
    }

    /** Blocks in the prefix cache map, held or free. */
    public int cachedBlocks() {
        return cached.size();
    }

    /** Free blocks that still hold a cached hash (a subset of {@link #freeBlocks()}). */
    public int cachedFreeBlocks() {
        return cachedFree;
    }

    /** Cached blocks popped for reuse, their hash dropped. */
    public long evictions() {
        return evictions;
    }

    public PhysicalBlock block(int id) {
        return blocks[id];
    }

    /** The free block reused first (the least recently freed), or null when none is free. */
    PhysicalBlock firstFree() {
        return free.front();
    }

    /** The free block reused after {@code b}, or null when {@code b} is the last. */
    PhysicalBlock nextFree(PhysicalBlock b) {
        return free.behind(b);
    }

    public boolean canAllocate(int n) {
        return n <= free.size();
    }

    /** Pops one free block, evicting its cached hash if any; its ref count becomes 1 and it holds no tokens. */
    public int allocate() {
        PhysicalBlock b = free.popFront();
        if (b.contentHash != null) {
            cached.remove(b.contentHash);
            b.contentHash = null;
            cachedFree--;
            evictions++;
        }
        b.generation++;
        b.refCount = 1;
        b.filled = 0;
        b.copied = false;
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
            if (b.contentHash != null) {
                cachedFree--;
            }
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
            b.copied = false;
            free.append(b);
            if (b.contentHash != null) {
                cachedFree++;
            }
        }
    }

    /** The block cached under {@code hash}, or null. Its content still has to be verified by the caller. */
    PhysicalBlock cachedBlock(BlockHash hash) {
        return cached.get(hash);
    }

    /** Enters a held, full, not yet cached block into the cache map under {@code hash} (which must be vacant). */
    void cache(PhysicalBlock b, BlockHash hash) {
        if (b.refCount < 1 || b.filled != blockSize || b.contentHash != null) {
            throw new IllegalStateException("block " + b.id + " cannot be cached: ref " + b.refCount + ", filled "
                    + b.filled + ", hash " + b.contentHash);
        }
        if (cached.putIfAbsent(hash, b) != null) {
            throw new IllegalStateException("hash " + hash + " is already cached");
        }
        b.contentHash = hash;
    }
}
