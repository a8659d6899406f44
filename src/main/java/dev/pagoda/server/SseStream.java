package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Server-Sent Events as OpenAI streams them: {@code data: <json>} events, each flushed at once, ended by
 * {@code data: [DONE]}. A write that fails means the client went away.
 */
final class SseStream {
    private final OutputStream out;

    SseStream(Exchange ex) throws IOException {
        ex.responseHeader("Content-Type", "text/event-stream; charset=utf-8");
        ex.responseHeader("Cache-Control", "no-cache");
        ex.sendHeaders(200, 0);
        this.out = ex.responseBody();
    }

    void send(JsonNode event) throws IOException {
        send(JsonFields.write(event));
    }

    /** An event whose data is JSON text already written (on one line). */
    void send(String json) throws IOException {
        write("data: " + json + "\n\n");
    }

    void done() throws IOException {
        write("data: [DONE]\n\n");
        out.close();
    }

    private void write(String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
