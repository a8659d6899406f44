package dev.pagoda.hub;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Checks a blob's content against its ETag as the hub defines it: the sha256 of the content for LFS files
 * (64 hex digits), the git blob id, sha1 of {@code "blob SIZE\0" + content}, for small files (40 hex digits).
 * Another ETag shape is not a checksum, and only the size is checked. Fed as the bytes arrive, in order.
 */
final class BlobChecksum {
    private final String etag;
    private final long size;
    private final MessageDigest digest;

    BlobChecksum(String etag, long size) {
        this.etag = etag;
        this.size = size;
        this.digest = etag.matches("[0-9a-f]{64}") ? newDigest("SHA-256") : etag.matches("[0-9a-f]{40}") ? newDigest("SHA-1") : null;
        reset();
    }

    /** Starts over, for content written again from its first byte. */
    void reset() {
        if (digest != null) {
            digest.reset();
            if (digest.getAlgorithm().equals("SHA-1")) {
                digest.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
            }
        }
    }

    void update(byte[] bytes, int offset, int length) {
        if (digest != null) {
            digest.update(bytes, offset, length);
        }
    }

    /** Null when the content fed matches the ETag, else what differs. */
    String mismatch() {
        if (digest == null) {
            return null;
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        return actual.equals(etag) ? null : (digest.getAlgorithm().equals("SHA-1") ? "git blob id" : "sha256") + " is " + actual + ", expected " + etag;
    }

    private static MessageDigest newDigest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every JDK", e);
        }
    }
}
