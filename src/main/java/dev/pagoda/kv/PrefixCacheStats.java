package dev.pagoda.kv;

/**
 * Prefix-cache counters since the allocator was created, and its size now.
 *
 * @param queriedTokens    tokens looked up by admitted sequences (vLLM's prefix_cache_queries_total)
 * @param hitTokens        of those, tokens served by cached blocks (vLLM's prefix_cache_hits_total)
 * @param evictions        cached blocks popped for reuse, their hash dropped
 * @param cachedBlocks     blocks in the cache map now, held or free
 * @param cachedFreeBlocks of those, free blocks (counted as free memory: reused when needed)
 */
public record PrefixCacheStats(long queriedTokens, long hitTokens, long evictions, int cachedBlocks,
                               int cachedFreeBlocks) {
    /** No prefix cache. */
    public static final PrefixCacheStats NONE = new PrefixCacheStats(0, 0, 0, 0, 0);

    /** Hit tokens over queried tokens; 0 before any query. */
    public double hitRate() {
        return queriedTokens == 0 ? 0 : (double) hitTokens / queriedTokens;
    }
}
