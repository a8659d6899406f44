package dev.pagoda.server;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * One client connection on its own virtual thread: HTTP/1.1 requests one after another (keep-alive). A new
 * connection must complete its first request's headers within the header timeout; between requests it may idle
 * for the idle timeout, then the next request's headers get the header timeout again; a body gets the body
 * timeout. A connection past a limit is answered (408/431/400) and closed.
 */
final class HttpConnection implements Runnable {
    /** Request line and headers together, at most (uvicorn's h11 allows 64 KiB too). */
    static final int MAX_HEADER_BYTES = 64 * 1024;
    static final int MAX_HEADERS = 128;
    /** A refused body is read and dropped for at most this long and this much before the connection closes. */
    private static final long LINGER_NANOS = 2_000_000_000L;
    private static final long LINGER_BYTES = 64L << 20;

    private final Socket socket;
    private final ServerConfig config;
    private final ServerMetrics metrics;
    private final Consumer<Exchange> handler;

    HttpConnection(Socket socket, ServerConfig config, ServerMetrics metrics, Consumer<Exchange> handler) {
        this.socket = socket;
        this.config = config;
        this.metrics = metrics;
        this.handler = handler;
    }

    Socket socket() {
        return socket;
    }

    @Override
    public void run() {
        try (socket) {
            serve();
        } catch (IOException | RuntimeException e) {
            // The client went away, or the server closed the connection (shutdown).
        }
    }

    private void serve() throws IOException {
        socket.setTcpNoDelay(true);
        SocketInput in = new SocketInput(socket);
        // Small, as the input's buffer (see SocketInput): larger writes go straight to the socket.
        OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 2 * 1024);
        try {
            in.deadline(config.headerTimeout().toNanos(), Rejection.HEADER_TIMEOUT);
            boolean first = true;
            while (true) {
                String line = firstLine(in, first);
                if (line == null) {
                    return;
                }
                first = false;
                Exchange ex = parse(in, out, line);
                if (ex == null) {
                    return;
                }
                handler.accept(ex);
                if (!ex.finish()) {
                    lingeringClose(in);
                    return;
                }
                in.deadline(config.idleTimeout().toNanos(), null);
            }
        } catch (ReadTimeoutException e) {
            if (e.reason != null) {
                metrics.onRejected(e.reason, socket.getRemoteSocketAddress() + " sent no complete request in time");
                refuse(out, new ApiException(408, "invalid_request_error", "the request was not received in time", null,
                        "request_timeout", 0));
            }
        } catch (HeaderTooLargeException e) {
            metrics.onRejected(Rejection.HEADER_TOO_LARGE, socket.getRemoteSocketAddress() + " sent a request header over "
                    + MAX_HEADER_BYTES + " bytes");
            refuse(out, new ApiException(431, "invalid_request_error", "the request line and headers exceed " + MAX_HEADER_BYTES
                    + " bytes", null, "header_too_large", 0));
        }
    }

    /**
     * Half-closes and drops what the client still sends (the unread rest of a refused body) for a bounded time and
     * amount, so that it reads the answer instead of a reset.
     */
    private void lingeringClose(SocketInput in) throws IOException {
        socket.shutdownOutput();
        in.deadline(LINGER_NANOS, null);
        // As large as one socket read returns at most (the JDK reads a heap array through a 128 KiB native
        // buffer): a 15 MB body is dropped in ~120 reads rather than ~900.
        byte[] drop = new byte[128 * 1024];
        long left = LINGER_BYTES;
        try {
            for (int n = in.read(drop, 0, drop.length); n > 0 && left > 0; n = in.read(drop, 0, drop.length)) {
                left -= n;
            }
        } catch (ReadTimeoutException e) {
            // Enough waiting.
        }
    }

    /** The request line; skips empty lines before it. A keep-alive connection's headers get their own timeout from the first byte. */
    private String firstLine(SocketInput in, boolean first) throws IOException {
        int c;
        do {
            c = in.read();
            if (c < 0) {
                return null;
            }
        } while (c == '\r' || c == '\n');
        if (!first) {
            in.deadline(config.headerTimeout().toNanos(), Rejection.HEADER_TIMEOUT);
        }
        String rest = in.readLine(MAX_HEADER_BYTES);
        return (char) c + (rest == null ? "" : rest);
    }

    /** The exchange of a request line and its headers, or null after answering a malformed one with 400. */
    private Exchange parse(SocketInput in, OutputStream out, String line) throws IOException {
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
            refuse(out, ApiException.badRequest("malformed request line", null));
            return null;
        }
        String path;
        try {
            path = new URI(parts[1]).getPath();
        } catch (URISyntaxException e) {
            path = null;
        }
        if (path == null || path.isEmpty()) {
            refuse(out, ApiException.badRequest("malformed request target " + parts[1], null));
            return null;
        }
        TreeMap<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        int bytes = line.length();
        for (String h = in.readLine(MAX_HEADER_BYTES); ; h = in.readLine(MAX_HEADER_BYTES)) {
            if (h == null) {
                return null;
            }
            if (h.isEmpty()) {
                break;
            }
            bytes += h.length() + 2;
            if (bytes > MAX_HEADER_BYTES || headers.size() >= MAX_HEADERS) {
                throw new HeaderTooLargeException();
            }
            int colon = h.indexOf(':');
            if (colon <= 0) {
                refuse(out, ApiException.badRequest("malformed header line", null));
                return null;
            }
            String name = h.substring(0, colon).trim();
            String value = h.substring(colon + 1).trim();
            String before = headers.get(name);
            if (before != null && name.equalsIgnoreCase("Content-Length") && !before.equals(value)) {
                refuse(out, ApiException.badRequest("conflicting Content-Length headers", null));
                return null;
            }
            headers.merge(name, value, (a, b) -> name.equalsIgnoreCase("Content-Length") ? a : a + ", " + b);
        }
        String te = headers.get("Transfer-Encoding");
        if (te != null && (!te.equalsIgnoreCase("chunked") || headers.containsKey("Content-Length"))) {
            // Anything else (or both framings at once) could be read two ways: refuse it (RFC 9112, section 6.3).
            refuse(out, new ApiException(501, "invalid_request_error", "only the chunked transfer coding is supported, without Content-Length",
                    null, null, 0));
            return null;
        }
        return new Exchange(in, out, parts[0], path, parts[2].equals("HTTP/1.1"), headers, config.bodyTimeout().toNanos(),
                client(socket));
    }

    /** host:port of the peer, as access logs write it. */
    private static String client(Socket s) {
        return s.getInetAddress().getHostAddress() + ":" + s.getPort();
    }

    /** Answers with an error; the caller then ends the connection. */
    private static void refuse(OutputStream out, ApiException e) {
        try {
            HttpIo.writeClosing(out, e);
        } catch (IOException gone) {
            // Nobody to tell.
        }
    }
}
