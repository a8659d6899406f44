package dev.pagoda.server;

import java.io.IOException;
import java.io.OutputStream;

/** A response body of a declared length: writing more is a bug, closing early cuts the connection's framing. */
final class FixedLengthOutput extends OutputStream {
    private final OutputStream out;
    private long left;

    FixedLengthOutput(OutputStream out, long length) {
        this.out = out;
        this.left = length;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (len > left) {
            throw new IllegalStateException("response body longer than its Content-Length");
        }
        out.write(b, off, len);
        left -= len;
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.flush();
    }
}
