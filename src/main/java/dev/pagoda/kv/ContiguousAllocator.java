package dev.pagoda.kv;

import java.util.Map;
import java.util.TreeMap;

/**
 * The baseline of systems before PagedAttention: each admitted sequence reserves one run of adjacent slots for
 * its maximum length, placed first-fit (lowest free run that is long enough) in the same region the paged
 * layout uses. Freed runs merge with free neighbours.
 */
public final class ContiguousAllocator implements KvAllocator {
    /** Free runs: start slot -> length; adjacent runs are always merged. */
    private final TreeMap<Integer, Integer> freeRuns = new TreeMap<>();
    private final int blockSize;
    private final int totalSlots;
    private final SwapSpace swap;
    private long sequenceTokens;
    private long reservedTotal;
    private int sequences;

    /** {@code swap} null: no swapping. */
    ContiguousAllocator(int numBlocks, int blockSize, SwapSpace swap) {
        KvShape.checkBlockSize(blockSize);
        this.swap = swap;
        if (numBlocks < 1) {
            throw new IllegalArgumentException("contiguous allocator needs at least one block, got " + numBlocks);
        }
        this.blockSize = blockSize;
        this.totalSlots = Math.multiplyExact(numBlocks, blockSize);
        freeRuns.put(0, totalSlots);
    }

    @Override
    public KvLayout layout() {
        return KvLayout.CONTIGUOUS;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public int totalSlots() {
        return totalSlots;
    }

    @Override
    public int usedBlocks() {
        return numBlocks() - freeWholeBlocks();
    }

    @Override
    public double usageFraction() {
        return (double) reservedTotal / totalSlots;
    }

    /** Blocks lying wholly in free runs. */
    private int freeWholeBlocks() {
        int blocks = 0;
        for (Map.Entry<Integer, Integer> run : freeRuns.entrySet()) {
            int firstWhole = (run.getKey() + blockSize - 1) / blockSize;
            int endWhole = (run.getKey() + run.getValue()) / blockSize;
            blocks += Math.max(0, endWhole - firstWhole);
        }
        return blocks;
    }

    /** Nothing is shared between contiguous reservations, so nothing is cached. */
    @Override
    public PrefixHit lookupPrefix(int[] tokens, int length) {
        return PrefixHit.none(blockSize);
    }

    @Override
    public PrefixCacheStats prefixCacheStats() {
        return PrefixCacheStats.NONE;
    }

    @Override
    public SwapSpace swapSpace() {
        return swap;
    }

    /** The reservation is for the maximum length at once, so there is no watermark to keep. */
    @Override
    public ContiguousRun allocate(PrefixHit hit, int newTokens, int maxLength, int keepFree) {
        int tokens = hit.cachedTokens() + newTokens;
        return canAdmit(tokens, maxLength) ? admit(tokens, maxLength) : null;
    }

    /** Start of the first free run of at least {@code length} slots, or -1. */
    private int firstFit(int length) {
        for (Map.Entry<Integer, Integer> run : freeRuns.entrySet()) {
            if (run.getValue() >= length) {
                return run.getKey();
            }
        }
        return -1;
    }

    @Override
    public boolean canAdmit(int initialTokens, int maxLength) {
        PagedAllocator.checkLengths(initialTokens, maxLength);
        return firstFit(maxLength) >= 0;
    }

    @Override
    public ContiguousRun admit(int initialTokens, int maxLength) {
        PagedAllocator.checkLengths(initialTokens, maxLength);
        int start = firstFit(maxLength);
        if (start < 0) {
            throw new IllegalStateException("no free run of " + maxLength + " slots");
        }
        int runLength = freeRuns.remove(start);
        if (runLength > maxLength) {
            freeRuns.put(start + maxLength, runLength - maxLength);
        }
        sequences++;
        reservedTotal += maxLength;
        sequenceTokens += initialTokens;
        return new ContiguousRun(this, start, maxLength, initialTokens);
    }

    void append(ContiguousRun run, int n) {
        if (!run.canAppend(n)) {
            throw new IllegalStateException("cannot append " + n + " tokens: reservation of " + run.reserved()
                    + " slots holds " + run.length());
        }
        run.setLength(run.length() + n);
        sequenceTokens += n;
    }

    void free(ContiguousRun run) {
        if (run.reserved() == 0) {
            throw new IllegalStateException("contiguous run freed twice");
        }
        int start = run.base();
        int length = run.reserved();
        Map.Entry<Integer, Integer> before = freeRuns.floorEntry(start);
        if (before != null && before.getKey() + before.getValue() > start) {
            throw new IllegalStateException("run at " + start + " overlaps a free run");
        }
        if (before != null && before.getKey() + before.getValue() == start) {
            freeRuns.remove(before.getKey());
            start = before.getKey();
            length += before.getValue();
        }
        Integer afterLength = freeRuns.remove(start + length);
        if (afterLength != null) {
            length += afterLength;
        }
        freeRuns.put(start, length);
        sequences--;
        reservedTotal -= run.reserved();
        sequenceTokens -= run.length();
        run.release();
    }

    @Override
    public KvMemoryUsage usage(int requestSlots) {
        long free = 0;
        long external = 0;
        for (int length : freeRuns.values()) {
            free += length;
            if (length < requestSlots) {
                external += length;
            }
        }
        int freeBlocks = freeWholeBlocks();
        int numBlocks = numBlocks();
        return new KvMemoryUsage(KvLayout.CONTIGUOUS, totalSlots, sequenceTokens, 0, reservedTotal - sequenceTokens,
                external, free, requestSlots, freeBlocks, numBlocks - freeBlocks, 0, sequenceTokens, sequences);
    }

}
