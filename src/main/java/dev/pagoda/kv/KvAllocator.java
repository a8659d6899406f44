package dev.pagoda.kv;

import java.util.List;

/**
 * Places sequences in the KV cache; the one interface the scheduler uses, whatever the layout. The scheduler asks
 * {@link #allocate} for a new sequence's slots and gets its {@link KvSequence} handle, or "no" with nothing changed;
 * the handle then grows ({@link KvSequence#appendSlots}), forks, caches its full blocks and is freed or swapped out
 * through itself. Prefix caching ({@link #lookupPrefix}) and swapping ({@link #swapIn}) do nothing where the layout
 * or configuration has none. The check-then-act pair {@code canAdmit}/{@code admit} throws
 * {@link IllegalStateException} when the check fails, and never half-allocates. Not thread-safe: owned by the
 * scheduler thread.
 */
public interface KvAllocator {

    /** An allocator over {@code memory}; copy-on-write copies block content in it. No prefix caching. */
    static KvAllocator create(KvLayout layout, KvMemory memory) {
        return create(layout, memory, false);
    }

    /**
     * An allocator over {@code memory}, with prefix caching (SHA-256 block hashes) when {@code prefixCaching}
     * and the layout is paged; the contiguous baseline cannot share memory, so it ignores the flag.
     */
    static KvAllocator create(KvLayout layout, KvMemory memory, boolean prefixCaching) {
        return create(layout, memory, prefixCaching, null);
    }

    /** As above, preempted sequences swapping out to {@code swap} (null: never swap). */
    static KvAllocator create(KvLayout layout, KvMemory memory, boolean prefixCaching, SwapSpace swap) {
        return create(layout, memory, prefixCaching, swap, 0);
    }

    /**
     * As above, for a model every layer of which attends only to its last {@code window} positions (0: some layer
     * attends to all): the paged layout releases the blocks out of that window ({@link KvSequence#releaseOutOfWindow}); the
     * contiguous baseline reserves the maximum length whatever the window.
     */
    static KvAllocator create(KvLayout layout, KvMemory memory, boolean prefixCaching, SwapSpace swap, int window) {
        return create(layout, memory.numBlocks(), memory.blockSize(), memory,
                prefixCaching ? new Sha256BlockHasher() : null, swap, window);
    }

    /** An allocator that only accounts for slots (no memory behind them): for memory benchmarks. */
    static KvAllocator accounting(KvLayout layout, int numBlocks, int blockSize) {
        return accounting(layout, numBlocks, blockSize, 0);
    }

    /** As above, releasing blocks out of a sliding {@code window} (0: none) as {@link #create} does. */
    static KvAllocator accounting(KvLayout layout, int numBlocks, int blockSize, int window) {
        return create(layout, numBlocks, blockSize, BlockCopier.NONE, null, null, window);
    }

    private static KvAllocator create(KvLayout layout, int numBlocks, int blockSize, BlockCopier copier,
                                      BlockHasher hasher, SwapSpace swap, int window) {
        return switch (layout) {
            case PAGED -> new PagedAllocator(numBlocks, blockSize, copier, hasher, swap, window);
            case CONTIGUOUS -> new ContiguousAllocator(numBlocks, blockSize, swap);
        };
    }

    /**
     * The most slots one sequence of at most {@code maxLength} tokens holds at once when a step computes at most
     * {@code maxChunk} of its tokens: its whole length, except for the paged layout with a sliding
     * {@code window}, where a step's chunk and the window before it touch at most ceil((W - 1 + chunk) / B) + 1
     * blocks (vLLM reserves ceil(W / B) + 1 for decoding): what sizing the cache for a sequence has to count.
     */
    static int slotsHeldAtMost(KvLayout layout, int blockSize, int window, int maxLength, int maxChunk) {
        if (layout == KvLayout.CONTIGUOUS || window == 0) {
            return maxLength;
        }
        long windowBlocks = ((long) window - 1 + maxChunk + blockSize - 1) / blockSize + 1;
        return (int) Math.min(maxLength, windowBlocks * blockSize);
    }

    KvLayout layout();

    int blockSize();

    int totalSlots();

    /** Blocks of the region (the watermark is a fraction of them). */
    default int numBlocks() {
        return totalSlots() / blockSize();
    }

    /** Blocks holding an allocated or reserved slot now. */
    int usedBlocks();

    /** Slots allocated or reserved, as a fraction of all slots; cheap enough to read every step. */
    double usageFraction();

    /**
     * The cached blocks that can serve a new sequence's first {@code length} tokens (vLLM's computed blocks):
     * a whole number of blocks below the length, so the last token is computed again. Empty when the layout or
     * configuration has no prefix cache. Takes nothing: {@link #allocate} takes the hit.
     */
    PrefixHit lookupPrefix(int[] tokens, int length);

    /**
     * Slots for a new sequence: the hit's cached tokens plus {@code newTokens} to compute, at most
     * {@code maxLength} tokens ever, leaving at least {@code keepFree} blocks free afterwards (the watermark that
     * lets running sequences grow; the contiguous layout reserves the maximum length at once, so it has nothing
     * to keep free for). Null, with nothing changed, when that does not fit now.
     */
    KvSequence allocate(PrefixHit hit, int newTokens, int maxLength, int keepFree);

    /** Prefix-cache counters and size (all 0 without a prefix cache). */
    PrefixCacheStats prefixCacheStats();

    /** Whether {@link KvSequence#fork} can share a sequence's blocks (paged layout). */
    default boolean canFork() {
        return false;
    }

    /** The swap space preempted sequences go to; null when they never swap. */
    SwapSpace swapSpace();

    /**
     * Brings a swapped sequence back: slots for its swapped tokens plus {@code newTokens}, as {@link #allocate}
     * (same watermark), its K/V copied back, its swap blocks released. Null, with nothing changed, when it does
     * not fit now.
     */
    default KvSequence swapIn(SwapSpace.Handle h, int newTokens, int maxLength, int keepFree) {
        KvSequence seq = allocate(PrefixHit.none(blockSize()), h.length() + newTokens, maxLength, keepFree);
        if (seq != null) {
            swapSpace().swapIn(h, seq);
        }
        return seq;
    }

    /** Releases a swapped sequence's swap blocks without copying (finish or abort while swapped). */
    default void releaseSwapped(SwapSpace.Handle h) {
        swapSpace().release(h);
    }

    /**
     * Whether a new sequence with {@code initialTokens} tokens (its prompt, or first prefill chunk) and at most
     * {@code maxLength} tokens ever (prompt + max tokens, capped by the max model length) can be placed now.
     */
    boolean canAdmit(int initialTokens, int maxLength);

    /** Places a new sequence holding slots for {@code initialTokens} tokens. */
    KvSequence admit(int initialTokens, int maxLength);

    /**
     * Describes every block to {@code map} (a live view of the cache): each block's state, which of
     * {@code sequences} (the live ones, each named by its index in the list) hold which of its positions, and for
     * the contiguous layout the reservations and free runs, judged against {@code requestSlots} as in
     * {@link #usage}. Blocks copied on write are flagged once, in the next description. Changes nothing else.
     */
    void describe(BlockMapWriter map, List<? extends KvSequence> sequences, int requestSlots);

    /**
     * Accounting now; {@code requestSlots} is the maximum length of the request that external fragmentation
     * is judged against (see {@link KvMemoryUsage#externalFragmentation()}).
     */
    KvMemoryUsage usage(int requestSlots);
}
