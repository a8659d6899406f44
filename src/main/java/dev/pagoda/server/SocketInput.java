package dev.pagoda.server;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * A client connection's bytes, buffered, read under the deadline of the current phase (idle, header or body):
 * each blocking read waits at most until that deadline, so a client that trickles bytes cannot hold a
 * connection past it (slowloris). One thread reads at a time.
 */
final class SocketInput {
    private final Socket socket;
    private final InputStream in;
    /**
     * Small: every open connection holds one, and thousands may sit idle or half-open; a bulk read (a body) of at
     * least this much goes straight into the caller's array.
     */
    private final byte[] buf = new byte[2 * 1024];
    private int pos;
    private int limit;
    private long deadline;
    private Rejection onTimeout;

    SocketInput(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
    }

    /** Reads from now on must complete within {@code nanos}; past it they throw {@link ReadTimeoutException} for {@code reason}. */
    void deadline(long nanos, Rejection reason) {
        this.deadline = System.nanoTime() + nanos;
        this.onTimeout = reason;
    }

    /** One byte, or -1 at the end of the stream. */
    int read() throws IOException {
        if (pos == limit && fill() < 0) {
            return -1;
        }
        return buf[pos++] & 0xff;
    }

    /** Up to {@code len} bytes (at least one unless at the end: then -1). */
    int read(byte[] b, int off, int len) throws IOException {
        if (pos == limit && len >= buf.length) {
            return direct(b, off, len);
        }
        if (pos == limit && fill() < 0) {
            return -1;
        }
        int n = Math.min(len, limit - pos);
        System.arraycopy(buf, pos, b, off, n);
        pos += n;
        return n;
    }

    /**
     * A line ended by LF (a CR before it dropped), as ISO-8859-1; null at the end of the stream before any byte.
     * Throws {@link HeaderTooLargeException} past {@code max} bytes.
     */
    String readLine(int max) throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = read();
            if (c < 0) {
                if (sb.isEmpty()) {
                    return null;
                }
                throw new IOException("the connection ended inside a line");
            }
            if (c == '\n') {
                int n = sb.length();
                if (n > 0 && sb.charAt(n - 1) == '\r') {
                    sb.setLength(n - 1);
                }
                return sb.toString();
            }
            if (sb.length() >= max) {
                throw new HeaderTooLargeException();
            }
            sb.append((char) c);
        }
    }

    /**
     * Whether the client has closed the connection; waits at most a millisecond. Only between a request's body and
     * the next request: bytes that arrive meanwhile (a pipelined request) are kept for it, and then the answer is no.
     */
    boolean peerClosed() {
        if (pos < limit) {
            return false;
        }
        try {
            compact();
            socket.setSoTimeout(1);
            int n = in.read(buf, limit, buf.length - limit);
            if (n < 0) {
                return true;
            }
            limit += n;
            return false;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private int fill() throws IOException {
        compact();
        int n = direct(buf, limit, buf.length - limit);
        if (n > 0) {
            limit += n;
        }
        return n;
    }

    /** One read of the socket into {@code b} under the deadline. */
    private int direct(byte[] b, int off, int len) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new ReadTimeoutException(onTimeout);
        }
        socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000)));
        try {
            return in.read(b, off, len);
        } catch (SocketTimeoutException e) {
            throw new ReadTimeoutException(onTimeout);
        }
    }

    private void compact() {
        if (pos == limit) {
            pos = 0;
            limit = 0;
        }
    }
}
