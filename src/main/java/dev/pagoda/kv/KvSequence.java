package dev.pagoda.kv;

/**
 * Where one sequence's tokens live in the KV cache, as the attention kernel sees it: token position
 * {@code p} is in slot {@code blockSlotStart(p / B) + p % B}. A paged {@link BlockTable} gives
 * {@code blockId * B} per logical block; a {@link ContiguousRun} gives {@code base + j * B}: one kernel serves both.
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

    /**
     * Leading logical blocks released because every later query's sliding window starts past them (paged layout,
     * every layer sliding); they have no slot. 0 when nothing was released.
     */
    default int releasedBlocks() {
        return 0;
    }
}
