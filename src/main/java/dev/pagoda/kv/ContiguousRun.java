package dev.pagoda.kv;

/**
 * A sequence of the contiguous baseline: one run of {@code reserved} adjacent slots starting at {@code base},
 * reserved at admission for the sequence's maximum length. Created by its {@link ContiguousAllocator} and mutated
 * only through it.
 */
public final class ContiguousRun implements KvSequence {
    private final ContiguousAllocator allocator;
    private final int blockSize;
    private int base;
    private int reserved;
    private int length;

    ContiguousRun(ContiguousAllocator allocator, int base, int reserved, int length) {
        this.allocator = allocator;
        this.blockSize = allocator.blockSize();
        this.base = base;
        this.reserved = reserved;
        this.length = length;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public int blockSlotStart(int j) {
        return base + j * blockSize;
    }

    @Override
    public int slotFor(int position) {
        return base + position;
    }

    @Override
    public boolean canAppend(int n) {
        return length + n <= reserved;
    }

    @Override
    public void append(int n) {
        allocator.append(this, n);
    }

    /** Nothing is shared between contiguous reservations, so nothing is cached. */
    @Override
    public void cacheFullBlocks(int[] tokens, int computedLength) {
    }

    /** A reservation is freed whole: nothing is released early. */
    @Override
    public void releaseOutOfWindow(int computedLength) {
    }

    @Override
    public KvSequence fork() {
        throw new UnsupportedOperationException(KvLayout.CONTIGUOUS.label() + " KV layout cannot share memory between sequences");
    }

    @Override
    public void describe(BlockMapWriter map, int sequence) {
        allocator.describe(this, map, sequence);
    }

    @Override
    public void free() {
        allocator.free(this);
    }

    @Override
    public SwapSpace.Handle swapOut(int length) {
        SwapSpace swap = allocator.swapSpace();
        return swap == null ? null : swap.swapOut(this, length);
    }

    public int base() {
        return base;
    }

    public int reserved() {
        return reserved;
    }

    void setLength(int length) {
        this.length = length;
    }

    /** Marks the run released (reserved 0) so a second free is caught. */
    void release() {
        reserved = 0;
        length = 0;
        base = -1;
    }
}
