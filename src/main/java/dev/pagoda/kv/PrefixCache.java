package dev.pagoda.kv;

import java.util.Arrays;

/**
 * Automatic prefix caching (vLLM v1 style) over a {@link BlockPool}. A full block whose K/V are written is
 * entered in the pool's cache map under its chained hash: hash(previous block's hash, its B token ids, extra
 * key). A new sequence looks up its leading full blocks one by one and stops at the first miss.
 *
 * <p>The hash only finds a candidate. A hit is served only when the candidate's stored content verifies: its
 * own token ids and extra key, and its recorded parent being the block matched just before, in the same
 * generation. By induction from the first block (no parent), a served chain holds K/V computed from exactly
 * the queried tokens, so even a hash collision can never serve wrong K/V.
 */
final class PrefixCache {
    private final BlockPool pool;
    private final BlockHasher hasher;
    private final int blockSize;
    private long queriedTokens;
    private long hitTokens;

    PrefixCache(BlockPool pool, BlockHasher hasher) {
        this.pool = pool;
        this.hasher = hasher;
        this.blockSize = pool.blockSize();
    }

    /** The verified cached chain for {@code tokens[0..length)}, at most (length-1)/B blocks. */
    PrefixHit lookup(int[] tokens, int length, long extraKey) {
        int maxBlocks = length == 0 ? 0 : (length - 1) / blockSize;
        PhysicalBlock[] found = new PhysicalBlock[maxBlocks];
        BlockHash hash = null;
        PhysicalBlock parent = null;
        int n = 0;
        while (n < maxBlocks) {
            int from = n * blockSize;
            BlockHash h = hasher.hash(hash, tokens, from, blockSize, extraKey);
            PhysicalBlock candidate = pool.cachedBlock(h);
            if (candidate == null
                    || !candidate.holds(parent, parent == null ? 0 : parent.generation, tokens, from, extraKey)) {
                break;
            }
            found[n++] = candidate;
            parent = candidate;
            hash = h;
        }
        return new PrefixHit(Arrays.copyOf(found, n), hash, extraKey, length, blockSize);
    }

    /** Counts an admitted sequence's lookup. */
    void recordAdmission(PrefixHit hit) {
        queriedTokens += hit.queriedTokens();
        hitTokens += hit.cachedTokens();
    }

    /**
     * Hashes the table's blocks that became full with written K/V (the first {@code computedLength} tokens) and
     * caches each, unless the same content is cached already (then the table's later blocks chain to that
     * copy). The chain stops, leaving this block and all later ones of the table uncached, when a different
     * content holds the hash (a collision) or the cached block the table chains to was reused since: a block
     * is only reachable through its cached parent.
     */
    void cacheFullBlocks(BlockTable table, int[] tokens, int computedLength) {
        int full = computedLength / blockSize;
        for (int j = table.hashedBlocks; j < full && !table.chainEnded; j++) {
            if (table.chainBlock != null && table.chainBlock.generation != table.chainGeneration) {
                table.chainEnded = true;
                return;
            }
            int from = j * blockSize;
            BlockHash h = hasher.hash(table.chainHash, tokens, from, blockSize, table.extraKey);
            PhysicalBlock ours = pool.block(table.blockId(j));
            PhysicalBlock cached = pool.cachedBlock(h);
            if (cached == null) {
                ours.describe(tokens, from, blockSize, table.extraKey, table.chainBlock, table.chainGeneration);
                pool.cache(ours, h);
                cached = ours;
            } else if (cached != ours
                    && !cached.holds(table.chainBlock, table.chainGeneration, tokens, from, table.extraKey)) {
                table.chainEnded = true;
                return;
            }
            table.chain(h, cached);
        }
    }

    PrefixCacheStats stats() {
        return new PrefixCacheStats(queriedTokens, hitTokens, pool.evictions(), pool.cachedBlocks(),
                pool.cachedFreeBlocks());
    }
}
