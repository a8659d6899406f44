package dev.pagoda.kv;

import dev.pagoda.PagodaException;

/**
 * What one token's K/V occupies, and how tokens are grouped into blocks.
 *
 * @param layers    transformer layers
 * @param kvHeads   key/value heads per layer
 * @param headDim   elements per head
 * @param blockSize tokens per block, 1..256
 * @param dtype     element type stored
 */
public record KvShape(int layers, int kvHeads, int headDim, int blockSize, KvDtype dtype) {
    public static final int DEFAULT_BLOCK_SIZE = 16;
    public static final int MAX_BLOCK_SIZE = 256;

    public KvShape {
        if (layers < 1 || kvHeads < 1 || headDim < 1) {
            throw new PagodaException("invalid KV shape: layers " + layers + ", kv heads " + kvHeads
                    + ", head dim " + headDim + " (each must be >= 1)");
        }
        checkBlockSize(blockSize);
    }

    public static void checkBlockSize(int blockSize) {
        if (blockSize < 1 || blockSize > MAX_BLOCK_SIZE) {
            throw new PagodaException("invalid block size " + blockSize + ": expected 1.." + MAX_BLOCK_SIZE);
        }
    }

    /** Bytes of K and V of every layer for one token. */
    public long bytesPerToken() {
        return (long) layers * 2 * kvHeads * headDim * dtype.bytes();
    }

    /** layers * 2 (K,V) * kvHeads * headDim * blockSize * dtypeBytes. */
    public long bytesPerBlock() {
        return bytesPerToken() * blockSize;
    }

    /** How many whole blocks fit in {@code bytes}. */
    public int blocksIn(long bytes) {
        long n = bytes / bytesPerBlock();
        if (n > Integer.MAX_VALUE) {
            throw new PagodaException("KV cache of " + ByteSize.format(bytes) + " has too many blocks (" + n + ")");
        }
        return (int) n;
    }
}
