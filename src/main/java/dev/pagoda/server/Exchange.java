package dev.pagoda.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One HTTP/1.1 request and its response on a client connection. The body is read under the body timeout
 * (Content-Length or chunked; {@code 100 Continue} sent first when the client expects it); the response is
 * fixed-length or chunked. Every exchange ends with {@link #finish()}, which tells the connection whether it
 * can carry another request.
 */
final class Exchange {
    private final SocketInput in;
    private final OutputStream out;
    private final String method;
    private final String path;
    private final boolean http11;
    private final Map<String, String> requestHeaders;
    private final long bodyTimeoutNanos;
    private final String client;
    /** When the request's headers were read (System.nanoTime): durations in the access log start here. */
    final long startNanos = System.nanoTime();
    /** The status sent, 0 until headers are sent. */
    private int status;
    /** Content-Length, -1 for chunked, or {@link #INVALID_LENGTH}. */
    private final long declared;
    private static final long INVALID_LENGTH = -2;
    private final Map<String, String> responseHeaders = new LinkedHashMap<>();
    private BodyInput body;
    private OutputStream response;
    private boolean headersSent;
    private boolean close;

    /** @param client the client's address, as the access log names it */
    Exchange(SocketInput in, OutputStream out, String method, String path, boolean http11, TreeMap<String, String> requestHeaders,
             long bodyTimeoutNanos, String client) {
        this.client = client;
        this.in = in;
        this.out = out;
        this.method = method;
        this.path = path;
        this.http11 = http11;
        this.requestHeaders = requestHeaders;
        this.bodyTimeoutNanos = bodyTimeoutNanos;
        this.declared = parseLength(requestHeaders);
        String connection = header("Connection");
        this.close = !http11 || (connection != null && connection.toLowerCase().contains("close"));
    }

    String method() {
        return method;
    }

    /** The path of the request target, without the query. */
    String path() {
        return path;
    }

    String client() {
        return client;
    }

    /** The status sent; 0 while no response has been started (and for an abandoned one). */
    int status() {
        return status;
    }

    /** A request header (case-insensitive name; repeated ones joined by commas), or null. */
    String header(String name) {
        return requestHeaders.get(name);
    }

    /** The declared body length: -1 for chunked, 0 for none; a 400 for a Content-Length that is not a number. */
    long declaredLength() {
        if (declared == INVALID_LENGTH) {
            throw ApiException.badRequest("Content-Length is not a number", null);
        }
        return declared;
    }

    private static long parseLength(TreeMap<String, String> headers) {
        if (headers.containsKey("Transfer-Encoding")) {
            return -1;
        }
        String cl = headers.get("Content-Length");
        if (cl == null) {
            return 0;
        }
        try {
            long n = Long.parseLong(cl.trim());
            return n < 0 ? INVALID_LENGTH : n;
        } catch (NumberFormatException e) {
            return INVALID_LENGTH;
        }
    }

    /** The request body; its reads must complete within the body timeout from the first call. */
    InputStream body() throws IOException {
        if (body == null) {
            long length = declaredLength();
            if (length != 0 && "100-continue".equalsIgnoreCase(header("Expect"))) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            in.deadline(bodyTimeoutNanos, Rejection.BODY_TIMEOUT);
            body = length < 0 ? new ChunkedInput(in) : new FixedLengthInput(in, length);
        }
        return body;
    }

    /** Whether the client has closed the connection (asked only after the body was read). */
    boolean clientGone() {
        return in.peerClosed();
    }

    void responseHeader(String name, String value) {
        responseHeaders.put(name, value);
        if (name.equalsIgnoreCase("Connection") && value.equalsIgnoreCase("close")) {
            close = true;
        }
    }

    /**
     * Sends the status line and headers. {@code length}: the body's byte count, 0 for a body of unknown length
     * sent as it comes (chunked), -1 for none. A HEAD request gets the headers of the GET and no body.
     */
    void sendHeaders(int status, long length) throws IOException {
        if (headersSent) {
            throw new IllegalStateException("headers already sent");
        }
        headersSent = true;
        this.status = status;
        if (!bodyConsumed()) {
            // An unread rest of the body would be taken for the next request: say now that this is the last one.
            close = true;
        }
        boolean head = method.equals("HEAD");
        StringBuilder h = new StringBuilder(256);
        h.append(http11 ? "HTTP/1.1 " : "HTTP/1.0 ").append(status).append(' ').append(reason(status)).append("\r\n");
        for (Map.Entry<String, String> e : responseHeaders.entrySet()) {
            h.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n");
        }
        if (length > 0) {
            h.append("Content-Length: ").append(length).append("\r\n");
            response = head ? OutputStream.nullOutputStream() : new FixedLengthOutput(out, length);
        } else if (length == 0 && http11) {
            h.append("Transfer-Encoding: chunked\r\n");
            response = head ? OutputStream.nullOutputStream() : new ChunkedOutput(out);
        } else if (length == 0) {
            // HTTP/1.0 has no chunks: the end of the connection ends the body.
            close = true;
            response = head ? OutputStream.nullOutputStream() : new FixedLengthOutput(out, Long.MAX_VALUE);
        } else {
            h.append("Content-Length: 0\r\n");
            response = OutputStream.nullOutputStream();
        }
        if (close) {
            h.append("Connection: close\r\n");
        }
        h.append("\r\n");
        out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (length <= 0 || head) {
            // No body follows at once (none, or one produced as it comes): the client should see the headers now.
            out.flush();
        }
    }

    /** Where the body goes (after {@link #sendHeaders}); closing it ends the response. */
    OutputStream responseBody() {
        if (response == null) {
            throw new IllegalStateException("headers not sent");
        }
        return response;
    }

    /** The client is gone: end the connection without a response. */
    void abandon() {
        close = true;
        if (!headersSent) {
            headersSent = true;
            response = OutputStream.nullOutputStream();
        }
    }

    /** Ends the response; whether the connection may carry another request. */
    boolean finish() throws IOException {
        if (!headersSent) {
            close = true;
            sendHeaders(500, -1);
        }
        response.close();
        out.flush();
        return !close && bodyConsumed();
    }

    private boolean bodyConsumed() {
        return body == null ? declared == 0 : body.exhausted();
    }

    static String reason(int status) {
        return switch (status) {
            case 100 -> "Continue";
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 413 -> "Content Too Large";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }
}
