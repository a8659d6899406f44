package dev.pagoda.kv;

/**
 * KV cache accounting at one moment, in token slots. Every slot is in exactly one of: {@code tokenSlots},
 * {@code internalFragmentation}, {@code reservedSlots}, {@code freeSlots}; {@code externalFragmentation}
 * is the part of {@code freeSlots} that cannot be used.
 *
 * @param layout                the allocator's layout
 * @param totalSlots            slots in the region (blocks * block size)
 * @param tokenSlots            slots holding a token's K/V (a slot shared by several sequences counts once)
 * @param internalFragmentation slots allocated to a sequence that hold no token: paged, the unfilled tail of
 *                              each sequence's last block (at most B-1 per sequence); contiguous, 0 from the
 *                              allocator (it cannot know how long a request will really get: see
 *                              {@link #withNeverUsed})
 * @param reservedSlots         contiguous only: slots reserved for a sequence beyond its current length
 * @param externalFragmentation contiguous only: free slots lying in free runs shorter than
 *                              {@code requestSlots}, i.e. free memory that cannot hold a new request of that
 *                              maximum length because no run of adjacent free slots is long enough. Paged: 0,
 *                              since any free block can serve any sequence
 * @param freeSlots             slots not allocated or reserved (including the externally fragmented ones)
 * @param requestSlots          the request maximum length external fragmentation was judged against
 * @param blocksFree            blocks with no allocated or reserved slot
 * @param blocksUsed            blocks with at least one allocated or reserved slot
 * @param blocksShared          paged: blocks held by more than one sequence (ref count > 1)
 * @param sequenceTokens        sum of the sequences' lengths (exceeds tokenSlots by what sharing and the release
 *                              of blocks out of a sliding window save)
 * @param sequences             live sequences
 */
public record KvMemoryUsage(KvLayout layout, long totalSlots, long tokenSlots, long internalFragmentation,
                            long reservedSlots, long externalFragmentation, long freeSlots, int requestSlots,
                            int blocksFree, int blocksUsed, int blocksShared, long sequenceTokens, int sequences) {

    /** Slots allocated or reserved, as a fraction of all slots (vLLM's kv_cache_usage_perc / 100). */
    public double usageFraction() {
        return (double) (totalSlots - freeSlots) / totalSlots;
    }

    /** Slots wasted: allocated or reserved without a token, or stranded by external fragmentation. */
    public long wastedSlots() {
        return internalFragmentation + reservedSlots + externalFragmentation;
    }

    /** Wasted slots over slots that are allocated, reserved or stranded; 0 when nothing is in use. */
    public double wasteFraction() {
        long denominator = tokenSlots + wastedSlots();
        return denominator == 0 ? 0 : (double) wastedSlots() / denominator;
    }

    /**
     * The same moment, with {@code neverUsed} reserved slots moved to internal fragmentation: for a caller that
     * knows the requests' real final lengths (a benchmark), the part of each contiguous reservation beyond the
     * final length is the paper's internal fragmentation; the rest stays reserved for future tokens.
     */
    public KvMemoryUsage withNeverUsed(long neverUsed) {
        if (neverUsed < 0 || neverUsed > reservedSlots) {
            throw new IllegalArgumentException("never-used slots " + neverUsed + " outside 0.." + reservedSlots);
        }
        return new KvMemoryUsage(layout, totalSlots, tokenSlots, internalFragmentation + neverUsed,
                reservedSlots - neverUsed, externalFragmentation, freeSlots, requestSlots, blocksFree, blocksUsed,
                blocksShared, sequenceTokens, sequences);
    }
}
