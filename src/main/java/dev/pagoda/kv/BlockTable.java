package dev.pagoda.kv;

import java.util.Arrays;

/**
 * A sequence's paged block table: logical block j -> physical block id. Append-only except for copy-on-write,
 * which repoints one entry at a private copy, and for the release of blocks out of every layer's sliding window,
 * which turns a leading run of entries into holes ({@link #RELEASED}). Created by its {@link PagedAllocator} and
 * mutated only through it.
 */
public final class BlockTable implements KvSequence {
    /** The entry of a released logical block: its tokens are out of every window and have no slot any more. */
    static final int RELEASED = -1;

    private final PagedAllocator allocator;
    private final int blockSize;
    private int[] ids;
    private int numBlocks;
    private int length;
    /** Logical blocks 0..released-1 are holes (released, out of the window); the rest hold a physical block. */
    private int released;
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

    /** Throws on a hole: attention masks out every position of a released block, so it is never read. */
    @Override
    public int blockSlotStart(int j) {
        int id = ids[j];
        if (id < 0) {
            throw new IllegalStateException("logical block " + j + " was released (out of every layer's window)");
        }
        return id * blockSize;
    }

    @Override
    public int slotFor(int position) {
        return blockSlotStart(position / blockSize) + position % blockSize;
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
    public void releaseOutOfWindow(int computedLength) {
        allocator.releaseOutOfWindow(this, computedLength);
    }

    @Override
    public BlockTable fork() {
        return allocator.fork(this);
    }

    @Override
    public void describe(BlockMapWriter map, int sequence) {
        allocator.describe(this, map, sequence);
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

    /** The physical block of logical block {@code j}, or {@link #RELEASED} for a hole. */
    public int blockId(int j) {
        if (j >= numBlocks) {
            throw new IndexOutOfBoundsException("logical block " + j + " of " + numBlocks);
        }
        return ids[j];
    }

    @Override
    public int releasedBlocks() {
        return released;
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

    /** Appends a hole: a leading logical block that is out of the window from the start. */
    void addReleased() {
        if (released != numBlocks) {
            throw new IllegalStateException("holes lead the table: block " + numBlocks + " follows a held block");
        }
        addBlock(RELEASED);
        released++;
    }

    /** Turns the next held logical block into a hole; returns the physical block it held (the caller frees it). */
    int releaseNext() {
        int id = ids[released];
        ids[released++] = RELEASED;
        return id;
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
        t.released = released;
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
        released = 0;
        hashedBlocks = 0;
        chainEnded = false;
        chainHash = null;
        chainBlock = null;
    }
}
