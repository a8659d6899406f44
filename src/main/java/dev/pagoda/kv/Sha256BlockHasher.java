package dev.pagoda.kv;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 over (parent hash bytes, extra key, token ids), little-endian: vLLM's choice after collision concerns
 * with weaker hashes. The first block has no parent bytes, so its input is shorter and cannot equal a chained one.
 * Not thread-safe (one digest reused): owned by one allocator.
 */
final class Sha256BlockHasher implements BlockHasher {
    private final MessageDigest digest;
    private ByteBuffer scratch = ByteBuffer.allocate(0);

    Sha256BlockHasher() {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    @Override
    public BlockHash hash(BlockHash parent, int[] tokens, int from, int count, long extraKey) {
        int bytes = Long.BYTES + count * Integer.BYTES;
        if (scratch.capacity() < bytes) {
            scratch = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        scratch.clear();
        scratch.putLong(extraKey);
        for (int i = from; i < from + count; i++) {
            scratch.putInt(tokens[i]);
        }
        digest.reset();
        if (parent != null) {
            digest.update(parent.bytes());
        }
        digest.update(scratch.array(), 0, bytes);
        return new BlockHash(digest.digest());
    }
}
