package dev.pagoda.server;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One soak client's HTTP/1.1 connection on a plain socket, kept alive between requests, on the caller's (virtual)
 * thread: a lean load generator, so that what the soak measures is the server, not a client library's shared
 * selector thread, its copies of the body or its queues (Java's HttpClient, which runs every connection's I/O
 * on one thread, queued 64 streams behind the 15 MB uploads). Reads a Content-Length or chunked response whole.
 */
final class SoakConnection implements AutoCloseable {
    /** A response: its status, its body, and the nanoseconds from writing the request's first byte to reading the response's last. */
    record Response(int status, byte[] body, long nanos) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final int port;
    private Socket socket;
    private InputStream in;

    SoakConnection(int port) {
        this.port = port;
    }

    /**
     * POSTs {@code body} (JSON) to {@code path}, with an {@code x-request-id} when one is given; opens a connection
     * when none is open or the server closed the last one.
     */
    Response post(String path, byte[] body, String requestId) throws IOException {
        if (socket == null) {
            socket = new Socket("127.0.0.1", port);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(120_000);
            in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
        }
        byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\n" + (requestId == null ? "" : "x-request-id: " + requestId + "\r\n") + "\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        long t0 = System.nanoTime();
        try {
            OutputStream out = socket.getOutputStream();
            if (body.length <= 8 * 1024) {
                // One write, so the request leaves in one segment.
                byte[] all = new byte[head.length + body.length];
                System.arraycopy(head, 0, all, 0, head.length);
                System.arraycopy(body, 0, all, head.length, body.length);
                out.write(all);
            } else {
                out.write(head);
                try {
                    out.write(body);
                } catch (IOException refused) {
                    // The server answered early and stopped reading (a refused body): its answer may still be there to read.
                }
            }
            return read(t0);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private Response read(long t0) throws IOException {
        String status = line();
        if (!status.startsWith("HTTP/1.1 ")) {
            throw new IOException("not an HTTP/1.1 status line: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        for (String h = line(); !h.isEmpty(); h = line()) {
            int colon = h.indexOf(':');
            String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.equalsIgnoreCase("chunked");
                case "connection" -> close = value.equalsIgnoreCase("close");
                default -> {
                }
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (chunked) {
            for (int size = Integer.parseInt(line(), 16); size > 0; size = Integer.parseInt(line(), 16)) {
                copy(body, size);
                line();
            }
            while (!line().isEmpty()) {
                // Trailer fields: none expected.
            }
        } else if (length >= 0) {
            copy(body, length);
        } else {
            in.transferTo(body);
            close = true;
        }
        long nanos = System.nanoTime() - t0;
        if (close) {
            close();
        }
        return new Response(code, body.toByteArray(), nanos);
    }

    private void copy(ByteArrayOutputStream to, long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 8 * 1024)];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(n, buf.length));
            if (r < 0) {
                throw new EOFException("the response ended " + n + " bytes short");
            }
            to.write(buf, 0, r);
            n -= r;
        }
    }

    /** A CRLF-ended line, as ASCII. */
    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("the connection ended inside a response");
            }
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException e) {
                // Closing is best effort.
            }
            socket = null;
            in = null;
        }
    }
}
