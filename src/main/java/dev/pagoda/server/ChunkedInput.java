package dev.pagoda.server;

import java.io.EOFException;
import java.io.IOException;

/** A body in chunked transfer coding (RFC 9112, section 7.1): hex-sized chunks, a zero chunk, optional trailers. */
final class ChunkedInput extends BodyInput {
    private static final int MAX_LINE = 4096;
    private long chunkLeft;
    private boolean done;

    ChunkedInput(SocketInput in) {
        super(in);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (done) {
            return -1;
        }
        if (chunkLeft == 0) {
            String size = line();
            int semi = size.indexOf(';');
            try {
                chunkLeft = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("malformed chunk size in the request body", null);
            }
            if (chunkLeft < 0) {
                throw ApiException.badRequest("malformed chunk size in the request body", null);
            }
            if (chunkLeft == 0) {
                while (!line().isEmpty()) {
                    // Trailers are read and dropped.
                }
                done = true;
                return -1;
            }
        }
        int n = in.read(b, off, (int) Math.min(len, chunkLeft));
        if (n < 0) {
            throw new EOFException("the connection ended inside a chunk");
        }
        chunkLeft -= n;
        if (chunkLeft == 0 && !line().isEmpty()) {
            throw ApiException.badRequest("a chunk of the request body is longer than its size", null);
        }
        return n;
    }

    private String line() throws IOException {
        String l = in.readLine(MAX_LINE);
        if (l == null) {
            throw new EOFException("the connection ended inside a chunked body");
        }
        return l;
    }

    @Override
    boolean exhausted() {
        return done;
    }
}
