package dev.pagoda.engine;

import dev.pagoda.kv.BlockMapWriter;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The KV cache as a map of its physical blocks at the end of one engine step, for viewers on other threads.
 * Parallel arrays indexed by block id (valid up to {@link #numBlocks()}); owners, sequences, reservations and holes
 * as parallel arrays valid up to their counts. Written by the engine thread into a reused buffer and published
 * by reference ({@link BlockMapPublisher}); a reader holds it from {@link BlockMapPublisher#acquire} to
 * {@link #release}, and the engine writes a buffer again only when no reader holds it.
 *
 * <p>A block is free (reference count 0), used, or shared (reference count above 1); a free block whose hash
 * is still cached keeps its tokens and has a place in the eviction order (0 is reused first). Contiguous
 * layout: the reference count is the number of reservations overlapping the block, and its slots are tokens,
 * reserved but unused, or free (flag {@code EXTERNAL}: free slots in a run too short for a request).
 */
public final class KvBlockMap {
    /** Flags of a block, as the allocator writes them. */
    public static final int CACHED = BlockMapWriter.CACHED;
    public static final int COPIED = BlockMapWriter.COPIED;
    public static final int EXTERNAL = BlockMapWriter.EXTERNAL;

    final AtomicInteger readers = new AtomicInteger();
    String layout;
    int blockSize;
    int numBlocks;
    long version;
    long steps;
    long timeMillis;
    KvCacheUsage usage;
    int[] refCount = new int[0];
    int[] tokenSlots = new int[0];
    int[] reservedSlots = new int[0];
    int[] flags = new int[0];
    int[] evictionRank = new int[0];
    int owners;
    int[] ownerBlock = new int[16];
    int[] ownerSequence = new int[16];
    int[] ownerFirst = new int[16];
    int[] ownerCount = new int[16];
    int sequences;
    String[] requestId = new String[16];
    int[] sampleIndex = new int[16];
    int[] sequenceLength = new int[16];
    int reservations;
    int[] reservationSequence = new int[4];
    int[] reservationBase = new int[4];
    int[] reservationSlots = new int[4];
    int[] reservationLength = new int[4];
    int holes;
    int[] holeStart = new int[4];
    int[] holeSlots = new int[4];
    boolean[] holeExternal = new boolean[4];

    KvBlockMap() {
    }

    /** Ends a read begun by {@link BlockMapPublisher#acquire}; the map must not be read afterwards. */
    public void release() {
        readers.decrementAndGet();
    }

    /** Starts a new map of {@code numBlocks} blocks (arrays grown once, then reused). */
    void reset(String layout, int numBlocks, int blockSize) {
        this.layout = layout;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        if (refCount.length < numBlocks) {
            refCount = new int[numBlocks];
            tokenSlots = new int[numBlocks];
            reservedSlots = new int[numBlocks];
            flags = new int[numBlocks];
            evictionRank = new int[numBlocks];
        }
        owners = 0;
        sequences = 0;
        reservations = 0;
        holes = 0;
    }

    void addSequence(String request, int index, int length) {
        if (sequences == requestId.length) {
            requestId = Arrays.copyOf(requestId, sequences * 2);
            sampleIndex = Arrays.copyOf(sampleIndex, sequences * 2);
            sequenceLength = Arrays.copyOf(sequenceLength, sequences * 2);
        }
        requestId[sequences] = request;
        sampleIndex[sequences] = index;
        sequenceLength[sequences++] = length;
    }

    void addOwner(int block, int sequence, int first, int count) {
        if (owners == ownerBlock.length) {
            ownerBlock = Arrays.copyOf(ownerBlock, owners * 2);
            ownerSequence = Arrays.copyOf(ownerSequence, owners * 2);
            ownerFirst = Arrays.copyOf(ownerFirst, owners * 2);
            ownerCount = Arrays.copyOf(ownerCount, owners * 2);
        }
        ownerBlock[owners] = block;
        ownerSequence[owners] = sequence;
        ownerFirst[owners] = first;
        ownerCount[owners++] = count;
    }

    void addReservation(int sequence, int base, int slots, int length) {
        if (reservations == reservationBase.length) {
            reservationSequence = Arrays.copyOf(reservationSequence, reservations * 2);
            reservationBase = Arrays.copyOf(reservationBase, reservations * 2);
            reservationSlots = Arrays.copyOf(reservationSlots, reservations * 2);
            reservationLength = Arrays.copyOf(reservationLength, reservations * 2);
        }
        reservationSequence[reservations] = sequence;
        reservationBase[reservations] = base;
        reservationSlots[reservations] = slots;
        reservationLength[reservations++] = length;
    }

    void addHole(int start, int slots, boolean external) {
        if (holes == holeStart.length) {
            holeStart = Arrays.copyOf(holeStart, holes * 2);
            holeSlots = Arrays.copyOf(holeSlots, holes * 2);
            holeExternal = Arrays.copyOf(holeExternal, holes * 2);
        }
        holeStart[holes] = start;
        holeSlots[holes] = slots;
        holeExternal[holes++] = external;
    }

    /** {@code paged} or {@code contiguous}. */
    public String layout() {
        return layout;
    }

    public int blockSize() {
        return blockSize;
    }

    public int numBlocks() {
        return numBlocks;
    }

    /** Publications so far, this one included: a reader that saw this version has nothing new. */
    public long version() {
        return version;
    }

    /** Engine steps run when this map was taken. */
    public long steps() {
        return steps;
    }

    public long timeMillis() {
        return timeMillis;
    }

    /** The KV accounting at the same moment (the numbers {@code /metrics} reports). */
    public KvCacheUsage usage() {
        return usage;
    }

    public int refCount(int block) {
        return refCount[block];
    }

    public int tokenSlots(int block) {
        return tokenSlots[block];
    }

    public int reservedSlots(int block) {
        return reservedSlots[block];
    }

    public int flags(int block) {
        return flags[block];
    }

    /** A free block's place in the eviction order (0: reused first); -1 for a held block. */
    public int evictionRank(int block) {
        return evictionRank[block];
    }

    /** Entries (block, sequence, first position, token count): which sequence holds which positions where. */
    public int owners() {
        return owners;
    }

    public int ownerBlock(int i) {
        return ownerBlock[i];
    }

    public int ownerSequence(int i) {
        return ownerSequence[i];
    }

    public int ownerFirst(int i) {
        return ownerFirst[i];
    }

    public int ownerCount(int i) {
        return ownerCount[i];
    }

    /** Live sequences holding KV; owners and reservations name them by index. */
    public int sequences() {
        return sequences;
    }

    public String requestId(int sequence) {
        return requestId[sequence];
    }

    /** The sequence's index within its request (parallel sample or beam). */
    public int sampleIndex(int sequence) {
        return sampleIndex[sequence];
    }

    /** Tokens with K/V slots. */
    public int sequenceLength(int sequence) {
        return sequenceLength[sequence];
    }

    /** Contiguous layout: one reservation per sequence. */
    public int reservations() {
        return reservations;
    }

    public int reservationSequence(int i) {
        return reservationSequence[i];
    }

    public int reservationBase(int i) {
        return reservationBase[i];
    }

    public int reservationSlots(int i) {
        return reservationSlots[i];
    }

    public int reservationLength(int i) {
        return reservationLength[i];
    }

    /** Contiguous layout: the free runs. */
    public int holes() {
        return holes;
    }

    public int holeStart(int i) {
        return holeStart[i];
    }

    public int holeSlots(int i) {
        return holeSlots[i];
    }

    public boolean holeExternal(int i) {
        return holeExternal[i];
    }
}
