package dev.pagoda.server;

import java.io.IOException;
import java.io.InputStream;

/** A request body framed on the connection's input: it ends where the request ends, not where the connection does. */
abstract class BodyInput extends InputStream {
    final SocketInput in;

    BodyInput(SocketInput in) {
        this.in = in;
    }

    /** Whether every byte of the body was read (else the connection cannot carry another request). */
    abstract boolean exhausted();

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }
}
