package dev.pagoda.kv;

import java.util.Arrays;

/**
 * One physical block of the KV cache. Mutable, owned by its {@link BlockPool}; single-threaded (the scheduler).
 * Invariants: {@code refCount == 0} exactly when the block is linked in the free queue; {@code contentHash}
 * is non-null exactly when the pool's cache map holds this block under it, and then the block is full.
 */
public final class PhysicalBlock {
    final int id;
    int refCount;
    /** Slots written so far (0..blockSize). Only a block with refCount 1 is ever written, so one writer owns it. */
    int filled;
    /** Bumped each time the block is popped for reuse: (block, generation) names one content. */
    int generation;
    /** Made by copy-on-write since the allocator last described its blocks (see {@link KvAllocator#describe}). */
    boolean copied;
    /** Hash of a full block's content for prefix caching; null until the block is full and cached. */
    BlockHash contentHash;
    /** What a prefix-cache hit is verified against (valid while contentHash is set): the block's token ids, */
    int[] tokenIds;
    /** its extra key, */
    long extraKey;
    /** and the cached block before it (null for a first block) in the generation it had then. */
    PhysicalBlock parent;
    int parentGeneration;
    PhysicalBlock prev;
    PhysicalBlock next;

    PhysicalBlock(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    public int refCount() {
        return refCount;
    }

    public int filled() {
        return filled;
    }

    public BlockHash contentHash() {
        return contentHash;
    }

    /** Records what this block holds, for verifying hits once it is cached. */
    void describe(int[] tokens, int from, int count, long extraKey, PhysicalBlock parent, int parentGeneration) {
        if (tokenIds == null || tokenIds.length != count) {
            tokenIds = new int[count];
        }
        System.arraycopy(tokens, from, tokenIds, 0, count);
        this.extraKey = extraKey;
        this.parent = parent;
        this.parentGeneration = parentGeneration;
    }

    /**
     * Whether this cached block holds exactly tokens {@code [from, from + tokenIds.length)} under
     * {@code extraKey}, following {@code parent} in generation {@code parentGeneration}. By induction from a
     * first block (parent null) a verified chain equals the query token for token, whatever the hash did.
     */
    boolean holds(PhysicalBlock parent, int parentGeneration, int[] tokens, int from, long extraKey) {
        return this.parent == parent && (parent == null || this.parentGeneration == parentGeneration)
                && this.extraKey == extraKey
                && Arrays.equals(tokenIds, 0, tokenIds.length, tokens, from, from + tokenIds.length);
    }
}
