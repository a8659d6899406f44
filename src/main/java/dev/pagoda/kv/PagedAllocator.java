package dev.pagoda.kv;

/**
 * PagedAttention's allocator: each sequence is a {@link BlockTable}; a new block is taken only when the last
 * one is full, so a sequence wastes at most B-1 slots. Forked sequences share blocks; writes into a shared
 * block go through {@link CopyOnWrite}.
 */
public final class PagedAllocator implements KvAllocator {
    private final BlockPool pool;
    private final CopyOnWrite copyOnWrite;
    private final int blockSize;
    private long sequenceTokens;
    private int sequences;

    PagedAllocator(int numBlocks, int blockSize, BlockCopier copier) {
        this.pool = new BlockPool(numBlocks, blockSize);
        this.copyOnWrite = new CopyOnWrite(pool, copier);
        this.blockSize = blockSize;
    }

    @Override
    public KvLayout layout() {
        return KvLayout.PAGED;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public int totalSlots() {
        return pool.numBlocks() * blockSize;
    }

    /** The pool, for prefix caching and inspection. */
    public BlockPool pool() {
        return pool;
    }

    /** Blocks copied by copy-on-write so far. */
    public long copyOnWriteCopies() {
        return copyOnWrite.copies();
    }

    private int blocksFor(int tokens) {
        return (tokens + blockSize - 1) / blockSize;
    }

    @Override
    public boolean canAdmit(int initialTokens, int maxLength) {
        checkLengths(initialTokens, maxLength);
        return pool.canAllocate(blocksFor(initialTokens));
    }

    @Override
    public BlockTable admit(int initialTokens, int maxLength) {
        if (!canAdmit(initialTokens, maxLength)) {
            throw new IllegalStateException("cannot admit " + initialTokens + " tokens: " + pool.freeBlocks()
                    + " free blocks");
        }
        BlockTable table = new BlockTable(blockSize, blocksFor(maxLength));
        sequences++;
        grow(table, initialTokens);
        return table;
    }

    /** Free blocks that appending {@code n} tokens to {@code table} takes, counting a copy-on-write copy. */
    public int blocksNeededToAppend(BlockTable table, int n) {
        if (n <= 0) {
            return 0;
        }
        return table.newBlocksFor(n) + (copyOnWrite.appendNeedsCopy(table) ? 1 : 0);
    }

    @Override
    public boolean canAppend(KvSequence seq, int n) {
        return pool.canAllocate(blocksNeededToAppend(table(seq), n));
    }

    @Override
    public void append(KvSequence seq, int n) {
        BlockTable table = table(seq);
        if (!canAppend(table, n)) {
            throw new IllegalStateException("cannot append " + n + " tokens: needs "
                    + blocksNeededToAppend(table, n) + " blocks, " + pool.freeBlocks() + " free");
        }
        if (n > 0 && copyOnWrite.appendNeedsCopy(table)) {
            copyOnWrite.makeWritable(table, table.numBlocks() - 1);
        }
        grow(table, n);
    }

    /** Adds slots for n tokens; the caller has checked that the blocks are free and the last block is private. */
    private void grow(BlockTable table, int n) {
        int newLength = table.length() + n;
        for (int i = table.newBlocksFor(n); i > 0; i--) {
            table.addBlock(pool.allocate());
        }
        for (int j = table.length() / blockSize; j < table.numBlocks(); j++) {
            pool.block(table.blockId(j)).filled = Math.min(blockSize, newLength - j * blockSize);
        }
        table.setLength(newLength);
        sequenceTokens += n;
    }

    @Override
    public BlockTable fork(KvSequence parent) {
        BlockTable source = table(parent);
        BlockTable child = source.copy();
        for (int j = 0; j < child.numBlocks(); j++) {
            pool.share(child.blockId(j));
        }
        sequences++;
        sequenceTokens += child.length();
        return child;
    }

    /** Frees tail first, so a sequence's last blocks are the first to be reused (evicted). */
    @Override
    public void free(KvSequence seq) {
        BlockTable table = table(seq);
        for (int j = table.numBlocks() - 1; j >= 0; j--) {
            pool.free(table.blockId(j));
        }
        sequenceTokens -= table.length();
        sequences--;
        table.clear();
    }

    @Override
    public KvMemoryUsage usage(int requestSlots) {
        long tokens = 0;
        int shared = 0;
        for (int id = 0; id < pool.numBlocks(); id++) {
            PhysicalBlock b = pool.block(id);
            if (b.refCount > 0) {
                tokens += b.filled;
                if (b.refCount > 1) {
                    shared++;
                }
            }
        }
        int used = pool.usedBlocks();
        long allocated = (long) used * blockSize;
        return new KvMemoryUsage(KvLayout.PAGED, totalSlots(), tokens, allocated - tokens, 0, 0,
                totalSlots() - allocated, requestSlots, pool.freeBlocks(), used, shared, sequenceTokens, sequences);
    }

    private static BlockTable table(KvSequence seq) {
        if (seq instanceof BlockTable t) {
            return t;
        }
        throw new IllegalArgumentException("paged allocator given a " + seq.getClass().getSimpleName());
    }

    static void checkLengths(int initialTokens, int maxLength) {
        if (initialTokens < 0 || maxLength < Math.max(1, initialTokens)) {
            throw new IllegalArgumentException("invalid lengths: initial " + initialTokens + ", max " + maxLength);
        }
    }
}
