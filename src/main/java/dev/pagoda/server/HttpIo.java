package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Writing JSON, text and OpenAI error bodies. */
final class HttpIo {
    private HttpIo() {
    }

    static void json(Exchange ex, int status, JsonNode body) throws IOException {
        send(ex, status, "application/json", JsonFields.write(body));
    }

    static void send(Exchange ex, int status, String contentType, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.responseHeader("Content-Type", contentType);
        ex.sendHeaders(status, b.length == 0 ? -1 : b.length);
        try (OutputStream out = ex.responseBody()) {
            out.write(b);
        }
    }

    static ObjectNode errorBody(ApiException e) {
        ObjectNode root = JsonFields.JSON.createObjectNode();
        ObjectNode err = root.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type);
        if (e.param == null) {
            err.putNull("param");
        } else {
            err.put("param", e.param);
        }
        if (e.code == null) {
            err.putNull("code");
        } else {
            err.put("code", e.code);
        }
        return root;
    }

    static void error(Exchange ex, ApiException e) throws IOException {
        if (e.retryAfterSeconds > 0) {
            ex.responseHeader("Retry-After", Integer.toString(e.retryAfterSeconds));
        }
        json(ex, e.status, errorBody(e));
    }

    /** A whole error response outside any exchange (a connection refused or cut by a limit), ending the connection. */
    static void writeClosing(OutputStream out, ApiException e) throws IOException {
        byte[] body = JsonFields.write(errorBody(e)).getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + e.status + " " + Exchange.reason(e.status) + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\n" + (e.retryAfterSeconds > 0 ? "Retry-After: " + e.retryAfterSeconds + "\r\n" : "")
                + "Connection: close\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
    }
}
