package dev.pagoda.kv;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * The chained content hash of a full block: hash(parent block's hash, the block's token ids, extra key).
 * Only a lookup key: a hit is served after the block's stored content is verified (see {@link PrefixCache}).
 * Immutable; equal when the bytes are equal.
 */
public final class BlockHash {
    private final byte[] bytes;
    private final int hashCode;

    BlockHash(byte[] bytes) {
        this.bytes = bytes.clone();
        this.hashCode = Arrays.hashCode(bytes);
    }

    /** The raw bytes, not copied: only for feeding a digest. */
    byte[] bytes() {
        return bytes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlockHash h && hashCode == h.hashCode && Arrays.equals(bytes, h.bytes);
    }

    @Override
    public int hashCode() {
        return hashCode;
    }

    @Override
    public String toString() {
        return HexFormat.of().formatHex(bytes);
    }
}
