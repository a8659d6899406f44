package dev.pagoda.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A minimal OpenAI-compatible server on a loopback port, as a plain proxy or an older llama-server is: /v1/models
 * names one model without max_model_len (with a {@code root} when given one), /v1/completions streams a fixed reply in three chunks with no usage chunk,
 * and there is no /tokenize. Keeps every completion request body it received.
 */
public final class FakeOpenAiServer implements AutoCloseable {
    public static final String REPLY = "Once upon a time there was a cat.";
    private final HttpServer http;
    public final List<JsonNode> received = new CopyOnWriteArrayList<>();

    public FakeOpenAiServer(String model) {
        this(model, null);
    }

    public FakeOpenAiServer(String model, String root) {
        try {
            http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String listed = "{\"id\": \"" + model + "\"" + (root == null ? "" : ", \"root\": \"" + root + "\"") + "}";
        http.createContext("/v1/models", ex -> answer(ex, 200, "application/json", "{\"object\": \"list\", \"data\": [" + listed + "]}"));
        http.createContext("/v1/completions", ex -> {
            received.add(new ObjectMapper().readTree(ex.getRequestBody()));
            StringBuilder sse = new StringBuilder();
            for (String piece : new String[] {"Once upon", " a time there", " was a cat."}) {
                sse.append("data: {\"choices\": [{\"index\": 0, \"text\": \"").append(piece).append("\"}]}\n\n");
            }
            answer(ex, 200, "text/event-stream", sse + "data: [DONE]\n\n");
        });
        http.createContext("/", ex -> answer(ex, 404, "text/plain", "no such endpoint"));
        http.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + http.getAddress().getPort();
    }

    private static void answer(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
