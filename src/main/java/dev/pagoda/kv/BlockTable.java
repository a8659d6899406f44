package dev.pagoda.kv;

import java.util.Arrays;

/**
 * A sequence's paged block table: logical block j -> physical block id. Append-only except for copy-on-write,
 * which repoints one entry at a private copy. Created by its {@link PagedAllocator} and mutated only through it.
 */
public final class BlockTable implements KvSequence {
    private final PagedAllocator allocator;
    private final int blockSize;
    private int[] ids;
    private int numBlocks;
    private int length;
    /*
     * Prefix-caching chain state: logical blocks 0..hashedBlocks-1 are hashed (each cached, or a duplicate of a
     * cached block); chainHash is the hash of the last of them and chainBlock the cached block holding that
     * content in chainGeneration, which the next block is chained to. chainEnded: no later block of this table
     * is cached (a collision, or chainBlock was reused), as none could be reached through its parent.
     */
    int hashedBlocks;
    boolean chainEnded;
    BlockHash chainHash;
    PhysicalBlock chainBlock;
    int chainGeneration;
    long extraKey;

    BlockTable(PagedAllocator allocator, int capacityBlocks) {
        this.allocator = allocator;
        this.blockSize = allocator.blockSize();
        this.ids = new int[Math.max(4, capacityBlocks)];
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public int blockSlotStart(int j) {
        return ids[j] * blockSize;
    }

    @Override
    public int slotFor(int position) {
        return ids[position / blockSize] * blockSize + position % blockSize;
    }

    @Override
    public boolean canAppend(int n) {
        return allocator.canAppend(this, n);
    }

    @Override
    public void append(int n) {
        allocator.append(this, n);
    }

    @Override
    public void cacheFullBlocks(int[] tokens, int computedLength) {
        allocator.cacheFullBlocks(this, tokens, computedLength);
    }

    @Override
    public BlockTable fork() {
        return allocator.fork(this);
    }

    @Override
    public void free() {
        allocator.free(this);
    }

    @Override
    public SwapSpace.Handle swapOut(int length) {
        SwapSpace swap = allocator.swapSpace();
        return swap == null ? null : swap.swapOut(this, length);
    }

    public int numBlocks() {
        return numBlocks;
    }

    public int blockId(int j) {
        if (j >= numBlocks) {
            throw new IndexOutOfBoundsException("logical block " + j + " of " + numBlocks);
        }
        return ids[j];
    }

    /** New blocks needed to hold {@code n} more tokens (ignoring copy-on-write of the last block). */
    public int newBlocksFor(int n) {
        int needed = (length + n + blockSize - 1) / blockSize;
        return Math.max(0, needed - numBlocks);
    }

    /** Slots used in the last block (0 when there is none or it is full). */
    int lastBlockFill() {
        return length % blockSize;
    }

    void addBlock(int id) {
        if (numBlocks == ids.length) {
            ids = Arrays.copyOf(ids, ids.length * 2);
        }
        ids[numBlocks++] = id;
    }

    void setBlock(int j, int id) {
        ids[j] = id;
    }

    void setLength(int length) {
        this.length = length;
    }

    /** A table admitted on a prefix hit: its hit blocks are hashed and cached, the chain goes on from the last. */
    void startChain(PrefixHit hit) {
        extraKey = hit.extraKey;
        hashedBlocks = hit.cachedBlocks();
        chainHash = hit.lastHash;
        if (hashedBlocks > 0) {
            chainBlock = hit.blocks[hashedBlocks - 1];
            chainGeneration = chainBlock.generation;
        }
    }

    /** Logical block {@code hashedBlocks} hashed to {@code hash}; its content is cached in {@code canonical}. */
    void chain(BlockHash hash, PhysicalBlock canonical) {
        hashedBlocks++;
        chainHash = hash;
        chainBlock = canonical;
        chainGeneration = canonical.generation;
    }

    BlockTable copy() {
        BlockTable t = new BlockTable(allocator, numBlocks);
        System.arraycopy(ids, 0, t.ids, 0, numBlocks);
        t.numBlocks = numBlocks;
        t.length = length;
        t.hashedBlocks = hashedBlocks;
        t.chainEnded = chainEnded;
        t.chainHash = chainHash;
        t.chainBlock = chainBlock;
        t.chainGeneration = chainGeneration;
        t.extraKey = extraKey;
        return t;
    }

    /** Forgets all blocks (after they were returned to the pool). */
    void clear() {
        numBlocks = 0;
        length = 0;
        hashedBlocks = 0;
        chainEnded = false;
        chainHash = null;
        chainBlock = null;
    }
}
