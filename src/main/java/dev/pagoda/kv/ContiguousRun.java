package dev.pagoda.kv;

/**
 * A sequence of the contiguous baseline: one run of {@code reserved} adjacent slots starting at {@code base},
 * reserved at admission for the sequence's maximum length. Mutated only through {@link ContiguousAllocator}.
 */
public final class ContiguousRun implements KvSequence {
    private final int blockSize;
    private int base;
    private int reserved;
    private int length;

    ContiguousRun(int blockSize, int base, int reserved, int length) {
        this.blockSize = blockSize;
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
