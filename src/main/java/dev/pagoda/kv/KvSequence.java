package dev.pagoda.kv;

/**
 * One sequence's place in the KV cache: the handle its allocator creates ({@link KvAllocator#allocate}) and owns,
 * and the view the attention kernel reads. Token position {@code p} is in slot {@code blockSlotStart(p / B) + p % B}:
 * a paged {@link BlockTable} gives {@code blockId * B} per logical block, a {@link ContiguousRun} gives
 * {@code base + j * B}, so one kernel serves both. Growing, sharing, caching and releasing the sequence go
 * through the handle, which knows its allocator: nobody needs to learn which layout it is.
 * The check-then-act pair ({@link #canAppend}/{@link #append}) throws {@link IllegalStateException} when the check
 * fails and never half-allocates. Not thread-safe: owned by the scheduler thread.
 */
public sealed interface KvSequence permits BlockTable, ContiguousRun {
    /** Tokens that have a slot (written, or to be written in the current step). */
    int length();

    /** Tokens per logical block (the KV cache's block size). */
    int blockSize();

    /** The slot of logical block {@code j}'s first position. */
    int blockSlotStart(int j);

    /** The slot holding position {@code position} (0 <= position < length, not in a released block). */
    int slotFor(int position);

    /** Whether {@code n} more tokens can get slots now. */
    boolean canAppend(int n);

    /** Gives {@code n} more tokens slots (the length grows by n). */
    void append(int n);

    /** Slots for {@code n} more tokens; false, with nothing changed, when they do not fit now. */
    default boolean appendSlots(int n) {
        if (!canAppend(n)) {
            return false;
        }
        append(n);
        return true;
    }

    /**
     * After a step wrote the K/V of the first {@code computedLength} tokens ({@code tokens} holds at least those
     * ids): makes the blocks that are now full reusable by later sequences with the same prefix. No-op without a
     * prefix cache.
     */
    void cacheFullBlocks(int[] tokens, int computedLength);

    /**
     * A new sequence sharing all of this one's tokens (parallel sampling, beam search). Only where
     * {@link KvAllocator#canFork()}: the contiguous baseline cannot share and throws
     * {@link UnsupportedOperationException}.
     */
    KvSequence fork();

    /**
     * After {@link #cacheFullBlocks} for the same step: releases the blocks that no query at a position >=
     * {@code computedLength} can read, because they lie before every layer's sliding window (paged layout with a
     * window; a no-op otherwise: a contiguous reservation is freed whole).
     */
    void releaseOutOfWindow(int computedLength);

    /**
     * Leading logical blocks released because every later query's sliding window starts past them; they have no
     * slot. 0 when nothing was released.
     */
    default int releasedBlocks() {
        return 0;
    }

    /** Releases every slot; the sequence must not be used afterwards. */
    void free();

    /** Tells {@code map} which positions this sequence, named {@code sequence}, holds in which blocks (see {@link KvAllocator#describe}). */
    void describe(BlockMapWriter map, int sequence);

    /**
     * Preemption by swapping: copies positions 0..length-1 (but the released blocks') to the allocator's swap
     * space and frees the sequence.
     * Null, with nothing changed, when there is no swap space or it has no room.
     */
    SwapSpace.Handle swapOut(int length);
}
