package dev.pagoda.kv;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The bounded secondary area that preemption by swapping copies a sequence's K/V into (the paper's CPU
 * swap space; here a second off-heap region). It is divided into swap blocks of {@code blockSize} token
 * records; a token record holds the token's K and V rows of every layer and kv head, so a sequence can
 * come back into any slots of either layout. A swap-out takes all the swap blocks it needs or none.
 */
public final class SwapSpace implements AutoCloseable {
    private final KvShape shape;
    private final KvMemory memory;
    private final Arena arena;
    private final MemorySegment segment;
    private final long tokenBytes;
    private final int numBlocks;
    private final int[] freeStack;
    private int freeCount;

    /**
     * Where a swapped-out sequence's tokens are: its swap blocks, in logical order, and its length. Its first
     * {@code releasedBlocks} logical blocks were released (out of every window): they are not swapped, and
     * {@code blocks[i]} holds logical block {@code releasedBlocks + i}.
     */
    public record Handle(int[] blocks, int length, int releasedBlocks) {
        /** The first position whose K/V the swap space holds. */
        int firstPosition(int blockSize) {
            return releasedBlocks * blockSize;
        }
    }

    /** A swap space of {@code bytes} (rounded down to whole swap blocks) for the K/V of {@code memory}. */
    public SwapSpace(KvMemory memory, long bytes) {
        this.shape = memory.shape();
        this.memory = memory;
        this.tokenBytes = shape.bytesPerToken();
        long perBlock = tokenBytes * shape.blockSize();
        this.numBlocks = (int) Math.min(Integer.MAX_VALUE, bytes / perBlock);
        this.arena = Arena.ofShared();
        this.segment = numBlocks == 0 ? MemorySegment.NULL : arena.allocate(perBlock * numBlocks, 64);
        this.freeStack = new int[numBlocks];
        for (int i = 0; i < numBlocks; i++) {
            freeStack[i] = numBlocks - 1 - i;
        }
        this.freeCount = numBlocks;
    }

    public int numBlocks() {
        return numBlocks;
    }

    public int freeBlocks() {
        return freeCount;
    }

    public boolean isEmpty() {
        return freeCount == numBlocks;
    }

    /** Whether positions {@code releasedBlocks * B .. length-1} of a sequence fit in the free swap blocks. */
    public boolean canSwapOut(int releasedBlocks, int length) {
        return blocksFor(length) - releasedBlocks <= freeCount;
    }

    /**
     * Preemption by swapping: copies the positions of {@code seq}'s held blocks (those out of every window were
     * released: they are not swapped) up to {@code length - 1} out of the KV memory, then frees {@code seq}. Null,
     * with nothing changed, when the swap space has no room.
     */
    Handle swapOut(KvSequence seq, int length) {
        int releasedBlocks = seq.releasedBlocks();
        if (!canSwapOut(releasedBlocks, length)) {
            return null;
        }
        int[] blocks = new int[blocksFor(length) - releasedBlocks];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = freeStack[--freeCount];
        }
        Handle h = new Handle(blocks, length, releasedBlocks);
        for (int p = h.firstPosition(shape.blockSize()); p < length; p++) {
            copyToken(seq.slotFor(p), h, p, true);
        }
        seq.free();
        return h;
    }

    /** Copies a swapped sequence back into {@code seq}'s slots (already allocated) and releases its swap blocks. */
    void swapIn(Handle h, KvSequence seq) {
        for (int p = h.firstPosition(shape.blockSize()); p < h.length(); p++) {
            copyToken(seq.slotFor(p), h, p, false);
        }
        release(h);
    }

    /** Releases a swapped sequence's blocks without copying (abort). */
    void release(Handle h) {
        for (int b : h.blocks()) {
            freeStack[freeCount++] = b;
        }
    }

    private void copyToken(int slot, Handle h, int position, boolean out) {
        int b = shape.blockSize();
        long record = ((long) h.blocks()[position / b - h.releasedBlocks()] * b + position % b) * tokenBytes;
        long row = memory.rowBytes();
        long at = record;
        for (int layer = 0; layer < shape.layers(); layer++) {
            for (int kv = 0; kv < 2; kv++) {
                for (int head = 0; head < shape.kvHeads(); head++) {
                    memory.copyRow(slot, layer, kv, head, segment, at, out);
                    at += row;
                }
            }
        }
    }

    private int blocksFor(int length) {
        return (length + shape.blockSize() - 1) / shape.blockSize();
    }

    @Override
    public void close() {
        arena.close();
    }
}
