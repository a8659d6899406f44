package dev.pagoda.kv;

/**
 * Receives a description of every physical block from {@link KvAllocator#describe}: the block map a viewer
 * draws. Sequences are named by their index in the list given to {@code describe}.
 */
public interface BlockMapWriter {
    /** Flag: the block's content hash is in the prefix cache (held or free). */
    int CACHED = 1;
    /** Flag: the block was made by copy-on-write since the previous description. */
    int COPIED = 2;
    /** Flag (contiguous): some of the block's free slots lie in a run too short for a request. */
    int EXTERNAL = 4;

    /**
     * Block {@code id}, once per block: sequences holding it (reference count; contiguous: reservations
     * overlapping it), slots holding a token's K/V, slots reserved for a sequence but unused (contiguous),
     * flags, and its place in the eviction order when it is free (0: reused next; -1: held).
     */
    void block(int id, int refCount, int tokenSlots, int reservedSlots, int flags, int evictionRank);

    /** Sequence {@code sequence} holds its token positions {@code first .. first + count - 1} in block {@code id}. */
    void owner(int id, int sequence, int first, int count);

    /** Contiguous: {@code sequence} reserved {@code reservedSlots} adjacent slots from {@code baseSlot}; its first {@code length} hold tokens. */
    void reservation(int sequence, int baseSlot, int reservedSlots, int length);

    /** Contiguous: a free run of slots; external when it is too short for a request (external fragmentation). */
    void hole(int startSlot, int slots, boolean external);
}
