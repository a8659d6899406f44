package dev.pagoda.kv;

/** Copies the K/V content of one physical block into another (copy-on-write). */
@FunctionalInterface
public interface BlockCopier {
    /** For allocators that only account for memory (benchmarks): nothing to copy. */
    BlockCopier NONE = (from, to) -> { };

    void copyBlock(int from, int to);
}
