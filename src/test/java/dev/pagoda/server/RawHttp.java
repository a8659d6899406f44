package dev.pagoda.server;

import dev.pagoda.Await;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Plain sockets for what an HTTP client library will not do: half-sent requests, hanging up, reading until the server closes. */
final class RawHttp {
    private RawHttp() {
    }

    /** A connection whose reads fail after the hang guard (a server that never answers), never sooner. */
    static Socket connect(int port) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout((int) Await.HANG_GUARD.toMillis());
        return s;
    }

    static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
    }

    /** A whole POST request with a JSON body. */
    static String post(String path, String json) {
        return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + json.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + json;
    }

    /** Everything the server sends until it closes the connection (bounded by the socket's read timeout). */
    static String readToClose(Socket s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                out.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection; got: " + out.toString(StandardCharsets.UTF_8));
        } catch (IOException reset) {
            // A reset after the answer still ends the connection.
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Reads until {@code marker} has arrived (e.g. the end of the response headers). */
    static String readUntil(Socket s, String marker) throws IOException {
        StringBuilder seen = new StringBuilder();
        InputStream in = s.getInputStream();
        byte[] buf = new byte[4096];
        while (!seen.toString().contains(marker)) {
            int n = in.read(buf);
            if (n < 0) {
                throw new AssertionError("the connection ended before " + marker + "; got: " + seen);
            }
            seen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
        return seen.toString();
    }
}
