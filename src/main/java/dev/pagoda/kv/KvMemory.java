package dev.pagoda.kv;

import dev.pagoda.PagodaException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The KV cache: ONE off-heap region divided into physical blocks of {@code blockSize} token slots.
 * Slot {@code s} is slot {@code s % B} of block {@code s / B}; both layouts (paged tables and contiguous runs)
 * address tokens by slot.
 *
 * <p>Layout of one block, outermost first: {@code [layer][K|V][kvHead][slot][headDim]}. For a fixed
 * (layer, K or V, kv head) the rows of the block's slots are adjacent, so the attention inner loop over the
 * positions of a block reads one contiguous stretch of {@code blockSize * headDim} elements; copying a block
 * (copy-on-write) is one bulk copy of {@code bytesPerBlock} bytes.
 */
public final class KvMemory implements AutoCloseable, BlockCopier {
    public static final int K = 0;
    public static final int V = 1;

    private final KvShape shape;
    private final Arena arena;
    private final MemorySegment segment;
    private final int numBlocks;
    private final long bytesPerBlock;
    private final long rowBytes;
    private final long headStride;

    private KvMemory(KvShape shape, int numBlocks) {
        this.shape = shape;
        this.numBlocks = numBlocks;
        this.bytesPerBlock = shape.bytesPerBlock();
        this.rowBytes = (long) shape.headDim() * shape.dtype().bytes();
        this.headStride = rowBytes * shape.blockSize();
        this.arena = Arena.ofShared();
        this.segment = arena.allocate(bytesPerBlock * numBlocks, 64);
    }

    /** A region of {@code bytes} (rounded down to whole blocks); fails if not even one block fits. */
    public static KvMemory allocate(KvShape shape, long bytes) {
        int n = shape.blocksIn(bytes);
        if (n < 1) {
            throw new PagodaException("KV cache memory " + ByteSize.format(bytes) + " is smaller than one block ("
                    + ByteSize.format(shape.bytesPerBlock()) + " for block size " + shape.blockSize() + ")");
        }
        return new KvMemory(shape, n);
    }

    /** A region of exactly {@code numBlocks} blocks. */
    public static KvMemory ofBlocks(KvShape shape, int numBlocks) {
        if (numBlocks < 1) {
            throw new PagodaException("KV cache needs at least one block, got " + numBlocks);
        }
        return new KvMemory(shape, numBlocks);
    }

    public KvShape shape() {
        return shape;
    }

    public int numBlocks() {
        return numBlocks;
    }

    public int blockSize() {
        return shape.blockSize();
    }

    public int totalSlots() {
        return numBlocks * shape.blockSize();
    }

    public MemorySegment segment() {
        return segment;
    }

    /** Byte offset of the row of (block, slot in block) for (layer, K or V, kv head). */
    public long rowOffset(int block, int slotInBlock, int layer, int kOrV, int kvHead) {
        return block * bytesPerBlock + (((long) layer * 2 + kOrV) * shape.kvHeads() + kvHead) * headStride
                + slotInBlock * rowBytes;
    }

    /** Byte offset of the row of {@code slot} for (layer, K or V, kv head). */
    public long slotOffset(int slot, int layer, int kOrV, int kvHead) {
        int b = shape.blockSize();
        return rowOffset(slot / b, slot % b, layer, kOrV, kvHead);
    }

    /** Bytes between the rows of two adjacent slots of one block. */
    public long rowBytes() {
        return rowBytes;
    }

    /**
     * Writes one token's K or V (all kv heads: {@code kvHeads * headDim} floats from {@code src[off..]}) into
     * {@code slot} of {@code layer}.
     */
    public void writeToken(int layer, int kOrV, int slot, float[] src, int off) {
        int hd = shape.headDim();
        for (int h = 0; h < shape.kvHeads(); h++) {
            shape.dtype().store(src, off + h * hd, segment, slotOffset(slot, layer, kOrV, h), hd);
        }
    }

    /** Reads one token's K or V (all kv heads) from {@code slot} of {@code layer} into {@code dst[off..]}. */
    public void readToken(int layer, int kOrV, int slot, float[] dst, int off) {
        int hd = shape.headDim();
        for (int h = 0; h < shape.kvHeads(); h++) {
            shape.dtype().load(segment, slotOffset(slot, layer, kOrV, h), dst, off + h * hd, hd);
        }
    }

    /** Copies a whole block (every layer, K and V): the content copy of copy-on-write. */
    @Override
    public void copyBlock(int from, int to) {
        MemorySegment.copy(segment, from * bytesPerBlock, segment, to * bytesPerBlock, bytesPerBlock);
    }

    @Override
    public void close() {
        arena.close();
    }
}
