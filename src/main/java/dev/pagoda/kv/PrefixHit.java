package dev.pagoda.kv;

/**
 * The result of a prefix-cache lookup: the longest verified chain of cached blocks covering a sequence's leading
 * full blocks, capped so that at least its last token is recomputed (its logits are needed). The hit takes no
 * reference: it stays valid until one of its blocks is reused, and admitting with a stale hit throws. Look up
 * right before checking and admitting.
 */
public final class PrefixHit {
    final PhysicalBlock[] blocks;
    private final int[] generations;
    /** The hash of the last hit block (null when nothing hit): the chain the admitted table continues. */
    final BlockHash lastHash;
    final long extraKey;
    private final int queriedTokens;
    private final int blockSize;

    PrefixHit(PhysicalBlock[] blocks, BlockHash lastHash, long extraKey, int queriedTokens, int blockSize) {
        this.blocks = blocks;
        this.generations = new int[blocks.length];
        for (int i = 0; i < blocks.length; i++) {
            generations[i] = blocks[i].generation;
        }
        this.lastHash = lastHash;
        this.extraKey = extraKey;
        this.queriedTokens = queriedTokens;
        this.blockSize = blockSize;
    }

    /** A hit of no blocks: nothing cached, or no prefix cache. */
    public static PrefixHit none(int blockSize) {
        return new PrefixHit(new PhysicalBlock[0], null, 0, 0, blockSize);
    }

    /** Leading tokens whose K/V the hit blocks already hold: a multiple of the block size, below the length. */
    public int cachedTokens() {
        return blocks.length * blockSize;
    }

    public int cachedBlocks() {
        return blocks.length;
    }

    /** The length looked up (the sequence's tokens so far). */
    public int queriedTokens() {
        return queriedTokens;
    }

    /** Hit blocks from the {@code from}-th on that are free now: admitting takes them out of the free queue. */
    int freeBlocks(int from) {
        int n = 0;
        for (int i = from; i < blocks.length; i++) {
            if (blocks[i].refCount == 0) {
                n++;
            }
        }
        return n;
    }

    /** Whether no hit block was reused since the lookup (a cached block keeps its content until reused). */
    boolean isCurrent() {
        for (int i = 0; i < blocks.length; i++) {
            if (blocks[i].generation != generations[i]) {
                return false;
            }
        }
        return true;
    }
}
