package dev.pagoda.kv;

/**
 * One physical block of the KV cache. Mutable, owned by its {@link BlockPool}; single-threaded (the scheduler).
 * Invariant: {@code refCount == 0} exactly when the block is linked in the free queue.
 */
public final class PhysicalBlock {
    final int id;
    int refCount;
    /** Slots written so far (0..blockSize). Only a block with refCount 1 is ever written, so one writer owns it. */
    int filled;
    /** Hash of a full block's content for prefix caching; null until the block is full and cached. */
    byte[] contentHash;
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

    public byte[] contentHash() {
        return contentHash;
    }

    public void setContentHash(byte[] hash) {
        this.contentHash = hash;
    }
}
