package dev.pagoda.kv;

import java.util.List;

/**
 * PagedAttention's allocator: each sequence is a {@link BlockTable}; a new block is taken only when the last
 * one is full, so a sequence wastes at most B-1 slots. Forked sequences share blocks; writes into a shared
 * block go through {@link CopyOnWrite}.
 *
 * <p>With a sliding window W (every layer of the model attends to at most its last W positions), a block whose
 * positions all lie before the window of the next position to compute is read by no later query: after each
 * step {@link #releaseOutOfWindow} drops the sequence's reference to it and leaves a hole in its table, and an
 * admission on a prefix hit does not take such hit blocks at all. A released block that is cached keeps its hash
 * on the free queue like any freed block, so later sequences with the same prefix still hit it until it is
 * evicted (a lookup walks the chain from the first block, so the early blocks are what makes any hit possible).
 *
 * <p>With prefix caching on, a new sequence reuses the cached blocks of its longest cached prefix
 * ({@link #lookupPrefix}, {@link #canAdmitCached}, {@link #admitCached}) and the caller reports the blocks whose
 * K/V each step completed ({@link #cacheFullBlocks}). Only full blocks are cached and a full block is never
 * written again; copy-on-write only copies a partly filled last block, so a copy starts with no hash.
 */
public final class PagedAllocator implements KvAllocator {
    private final BlockPool pool;
    private final CopyOnWrite copyOnWrite;
    private final PrefixCache prefixCache;
    private final int blockSize;
    private final SwapSpace swap;
    private final int window;
    private long sequenceTokens;
    private int sequences;

    /**
     * {@code hasher} null: prefix caching off; {@code swap} null: no swapping; {@code window} 0: every block is
     * kept, else the sliding window of every layer (blocks out of it are released).
     */
    PagedAllocator(int numBlocks, int blockSize, BlockCopier copier, BlockHasher hasher, SwapSpace swap, int window) {
        if (window < 0) {
            throw new IllegalArgumentException("negative sliding window " + window);
        }
        this.swap = swap;
        this.window = window;
        this.pool = new BlockPool(numBlocks, blockSize);
        this.copyOnWrite = new CopyOnWrite(pool, copier);
        this.prefixCache = hasher == null ? null : new PrefixCache(pool, hasher);
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

    /** The pool, for inspection. */
    public BlockPool pool() {
        return pool;
    }

    @Override
    public int usedBlocks() {
        return pool.usedBlocks();
    }

    /** Cached blocks that no sequence holds count as free: they are reused (evicted) when needed. */
    @Override
    public double usageFraction() {
        return (double) pool.usedBlocks() / pool.numBlocks();
    }

    @Override
    public SwapSpace swapSpace() {
        return swap;
    }

    @Override
    public boolean canFork() {
        return true;
    }

    @Override
    public BlockTable allocate(PrefixHit hit, int newTokens, int maxLength, int keepFree) {
        if (!canAdmitCached(hit, newTokens, maxLength) || pool.freeBlocks() - blocksToAdmit(hit, newTokens) < keepFree) {
            return null;
        }
        return admitCached(hit, newTokens, maxLength);
    }

    /** Blocks copied by copy-on-write so far. */
    public long copyOnWriteCopies() {
        return copyOnWrite.copies();
    }

    private int blocksFor(int tokens) {
        return (tokens + blockSize - 1) / blockSize;
    }

    /**
     * Leading logical blocks that no query at a position >= {@code computed} reads: a query at position p reads
     * p - W + 1 .. p, so every block ending at or before computed - W + 1 is out of the window for good.
     */
    private int outOfWindow(int computed) {
        return window == 0 ? 0 : Math.max(0, computed - window + 1) / blockSize;
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
        BlockTable table = new BlockTable(this, blocksFor(maxLength));
        sequences++;
        grow(table, initialTokens);
        return table;
    }

    public boolean prefixCaching() {
        return prefixCache != null;
    }

    /** {@link #lookupPrefix(int[], int, long)} with no extra key. */
    @Override
    public PrefixHit lookupPrefix(int[] tokens, int length) {
        return lookupPrefix(tokens, length, 0);
    }

    /**
     * The cached blocks that can serve {@code tokens[0..length)} (a sequence's prompt, or all its tokens when
     * re-admitted after preemption): the longest verified chain of cached full blocks, at most
     * {@code ((length - 1) / B) * B} tokens so the last token is recomputed. {@code extraKey} separates caches
     * that must not share (e.g. a salt); tokens hashed under another key never hit. With prefix caching off the
     * hit is empty. Counts nothing: an admission counts its hit.
     */
    public PrefixHit lookupPrefix(int[] tokens, int length, long extraKey) {
        if (length < 0 || length > tokens.length) {
            throw new IllegalArgumentException("prefix length " + length + " outside 0.." + tokens.length);
        }
        return prefixCache == null ? PrefixHit.none(blockSize)
                : prefixCache.lookup(tokens, length, extraKey);
    }

    /**
     * Free blocks that {@link #admitCached} takes: fresh blocks for the new tokens plus the hit blocks in the
     * window that are free now (cached but unreferenced), which leave the free queue and so cannot serve as fresh
     * blocks. Hit blocks out of the window are not taken.
     */
    public int blocksToAdmit(PrefixHit hit, int newTokens) {
        if (newTokens < 0) {
            throw new IllegalArgumentException("negative new tokens " + newTokens);
        }
        checkCurrent(hit);
        return blocksFor(hit.cachedTokens() + newTokens) - hit.cachedBlocks()
                + hit.freeBlocks(outOfWindow(hit.cachedTokens()));
    }

    /** Whether {@link #admitCached} can place the sequence now. */
    public boolean canAdmitCached(PrefixHit hit, int newTokens, int maxLength) {
        checkLengths(hit.cachedTokens() + newTokens, maxLength);
        return pool.canAllocate(blocksToAdmit(hit, newTokens));
    }

    /**
     * Places a new sequence on the hit's cached blocks (one more reference each) plus fresh blocks for
     * {@code newTokens} tokens: its table's length is {@code hit.cachedTokens() + newTokens}, and the caller
     * computes from position {@code hit.cachedTokens()} on. Hit blocks out of the window of that position are
     * holes in the table from the start. All or nothing; throws if {@link #canAdmitCached} is false or the hit is
     * stale.
     */
    public BlockTable admitCached(PrefixHit hit, int newTokens, int maxLength) {
        if (!canAdmitCached(hit, newTokens, maxLength)) {
            throw new IllegalStateException("cannot admit " + hit.cachedTokens() + " cached + " + newTokens
                    + " new tokens: needs " + blocksToAdmit(hit, newTokens) + " blocks, " + pool.freeBlocks()
                    + " free");
        }
        BlockTable table = new BlockTable(this, blocksFor(maxLength));
        int holes = outOfWindow(hit.cachedTokens());
        // Hit blocks leave the free queue before fresh blocks are popped from it.
        for (int j = 0; j < hit.blocks.length; j++) {
            if (j < holes) {
                table.addReleased();
            } else {
                pool.touch(hit.blocks[j].id);
                table.addBlock(hit.blocks[j].id);
            }
        }
        table.startChain(hit);
        table.setLength(hit.cachedTokens());
        sequenceTokens += hit.cachedTokens();
        sequences++;
        grow(table, newTokens);
        if (prefixCache != null) {
            prefixCache.recordAdmission(hit);
        }
        return table;
    }

    /**
     * After a step wrote the K/V of {@code seq}'s first {@code computedLength} tokens ({@code tokens} holds at
     * least those ids): caches every block that is now full and not hashed yet. No-op with prefix caching off.
     */
    void cacheFullBlocks(BlockTable table, int[] tokens, int computedLength) {
        if (computedLength < 0 || computedLength > table.length() || computedLength > tokens.length) {
            throw new IllegalArgumentException("computed length " + computedLength + " outside 0.."
                    + Math.min(table.length(), tokens.length));
        }
        if (prefixCache != null) {
            prefixCache.cacheFullBlocks(table, tokens, computedLength);
        }
    }

    /**
     * After {@link #cacheFullBlocks} for the same step: releases {@code table}'s blocks that lie wholly before the
     * window of position {@code computedLength}, the next one to compute (one reference fewer each: a block
     * another sequence shares stays, a cached one goes to the free queue with its hash). No-op without a window.
     */
    void releaseOutOfWindow(BlockTable table, int computedLength) {
        int end = Math.min(outOfWindow(computedLength), table.numBlocks());
        // Blocks are hashed before they are released, as a cached block's chain runs through its predecessors.
        if (prefixCache != null && !table.chainEnded && end > table.hashedBlocks) {
            throw new IllegalStateException("releasing logical block " + (end - 1) + " before it was cached");
        }
        while (table.releasedBlocks() < end) {
            pool.free(table.releaseNext());
        }
    }

    @Override
    public PrefixCacheStats prefixCacheStats() {
        return prefixCache == null ? PrefixCacheStats.NONE : prefixCache.stats();
    }

    private static void checkCurrent(PrefixHit hit) {
        if (!hit.isCurrent()) {
            throw new IllegalStateException("prefix hit is stale (a hit block was reused): look it up again");
        }
    }

    /** Free blocks that appending {@code n} tokens to {@code table} takes, counting a copy-on-write copy. */
    public int blocksNeededToAppend(BlockTable table, int n) {
        if (n <= 0) {
            return 0;
        }
        return table.newBlocksFor(n) + (copyOnWrite.appendNeedsCopy(table) ? 1 : 0);
    }

    boolean canAppend(BlockTable table, int n) {
        return pool.canAllocate(blocksNeededToAppend(table, n));
    }

    void append(BlockTable table, int n) {
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

    /**
     * As {@link KvAllocator#swapIn}, except that the blocks the sequence had released stay holes: only its held
     * blocks come back. Such a table caches no more blocks (its hash chain cannot continue across a hole).
     */
    @Override
    public BlockTable swapIn(SwapSpace.Handle h, int newTokens, int maxLength, int keepFree) {
        int holes = h.releasedBlocks();
        checkLengths(h.length() + newTokens, maxLength);
        int need = blocksFor(h.length() + newTokens) - holes;
        if (!pool.canAllocate(need) || pool.freeBlocks() - need < keepFree) {
            return null;
        }
        BlockTable table = new BlockTable(this, blocksFor(maxLength));
        for (int j = 0; j < holes; j++) {
            table.addReleased();
        }
        table.chainEnded = holes > 0;
        table.setLength(holes * blockSize);
        sequenceTokens += holes * blockSize;
        sequences++;
        grow(table, h.length() - holes * blockSize + newTokens);
        swap.swapIn(h, table);
        return table;
    }

    BlockTable fork(BlockTable parent) {
        BlockTable child = parent.copy();
        for (int j = child.releasedBlocks(); j < child.numBlocks(); j++) {
            pool.share(child.blockId(j));
        }
        sequences++;
        sequenceTokens += child.length();
        return child;
    }

    /** Frees tail first, so a sequence's last blocks are the first to be reused (evicted); holes hold nothing. */
    void free(BlockTable table) {
        for (int j = table.numBlocks() - 1; j >= table.releasedBlocks(); j--) {
            pool.free(table.blockId(j));
        }
        sequenceTokens -= table.length();
        sequences--;
        table.clear();
    }

    /**
     * Free blocks in eviction order first (a free block keeps its tokens only while its hash is cached), then the
     * held ones; then each sequence's blocks with the positions they hold (a shared block is full, or the same
     * partly filled last block of every holder, so all holders have the same positions in it).
     */
    @Override
    public void describe(BlockMapWriter map, List<? extends KvSequence> sequences, int requestSlots) {
        int rank = 0;
        for (PhysicalBlock b = pool.firstFree(); b != null; b = pool.nextFree(b)) {
            map.block(b.id, 0, b.contentHash != null ? b.filled : 0, 0, b.contentHash != null ? BlockMapWriter.CACHED : 0, rank++);
        }
        for (int id = 0; id < pool.numBlocks(); id++) {
            PhysicalBlock b = pool.block(id);
            if (b.refCount > 0) {
                map.block(id, b.refCount, b.filled, 0,
                        (b.contentHash != null ? BlockMapWriter.CACHED : 0) | (b.copied ? BlockMapWriter.COPIED : 0), -1);
                b.copied = false;
            }
        }
        for (int s = 0; s < sequences.size(); s++) {
            sequences.get(s).describe(map, s);
        }
    }

    /** The table's blocks, each with the positions it holds there. */
    void describe(BlockTable t, BlockMapWriter map, int sequence) {
        for (int j = 0; j < t.numBlocks(); j++) {
            int id = t.blockId(j);
            if (id == BlockTable.RELEASED) {
                continue; // a hole out of the window: the sequence owns nothing there
            }
            map.owner(id, sequence, j * blockSize, pool.block(id).filled);
        }
    }

    /** Free blocks that keep a cached hash count as free: they are reused (evicted) when needed. */
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

    static void checkLengths(int initialTokens, int maxLength) {
        if (initialTokens < 0 || maxLength < Math.max(1, initialTokens)) {
            throw new IllegalArgumentException("invalid lengths: initial " + initialTokens + ", max " + maxLength);
        }
    }
}
