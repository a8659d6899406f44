package dev.pagoda.kv;

/**
 * Hashes one full block for prefix caching. Injectable so that tests can force collisions: correctness never
 * rests on the hash, since every hit is verified against the block's stored content.
 */
@FunctionalInterface
interface BlockHasher {
    /**
     * The hash of tokens {@code [from, from + count)} chained to {@code parent} (null for a sequence's first
     * block), salted with {@code extraKey}.
     */
    BlockHash hash(BlockHash parent, int[] tokens, int from, int count, long extraKey);
}
