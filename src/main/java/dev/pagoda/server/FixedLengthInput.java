package dev.pagoda.server;

import java.io.EOFException;
import java.io.IOException;

/** A body of Content-Length bytes. */
final class FixedLengthInput extends BodyInput {
    private long left;

    FixedLengthInput(SocketInput in, long length) {
        super(in);
        this.left = length;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (left == 0) {
            return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, left));
        if (n < 0) {
            throw new EOFException("the connection ended " + left + " bytes before the end of the body");
        }
        left -= n;
        return n;
    }

    @Override
    boolean exhausted() {
        return left == 0;
    }
}
