package dev.pagoda.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pagoda.engine.LLM;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The OpenAI-compatible HTTP server over one engine: completions and chat
 * (whole or streamed as Server-Sent Events), models, health, version, tokenize, detokenize and Prometheus
 * metrics. One virtual thread per exchange; a streaming one blocks on its requests' increments.
 *
 * <p>The server does not own the {@link LLM}: close the server first, then the LLM.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final String REQUEST_ID = "x-request-id";
    public static final String VERSION = "0.1.0";

    static {
        // Streamed chunks are small: without TCP_NODELAY, Nagle plus delayed ACKs hold each one back.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private final HttpServer http;
    private final ExecutorService executor;
    private final Serving serving;
    private final CompletionsEndpoint completions;
    private final ChatCompletionsEndpoint chat;
    private final byte[] apiKey;
    private final long created = System.currentTimeMillis() / 1000;
    private final AtomicInteger active = new AtomicInteger();
    private volatile boolean stopped;

    private OpenAiServer(LLM llm, ServerConfig config) throws IOException {
        this.serving = new Serving(llm.engine(), llm.model(), config, new ServerMetrics(config.servedModelName()),
                new Admission(config.maxWaiting()), ChatTemplate.of(llm.model()));
        this.completions = new CompletionsEndpoint(serving);
        this.chat = new ChatCompletionsEndpoint(serving);
        this.apiKey = config.apiKey() == null ? null : ("Bearer " + config.apiKey()).getBytes(StandardCharsets.UTF_8);
        this.http = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 128);
        this.executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("pagoda-http-", 0).factory());
        http.setExecutor(executor);
        http.createContext("/", this::exchange);
    }

    /** Binds and starts serving; a port of 0 picks a free one (see {@link #port()}). */
    public static OpenAiServer start(LLM llm, ServerConfig config) {
        try {
            OpenAiServer s = new OpenAiServer(llm, config);
            s.http.start();
            return s;
        } catch (IOException e) {
            throw new dev.pagoda.PagodaException("cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage());
        }
    }

    public int port() {
        return http.getAddress().getPort();
    }

    /** {@code http://host:port}, the base of every endpoint ({@code /v1/...}). */
    public String baseUrl() {
        return "http://" + serving.config().host() + ":" + port();
    }

    /** Requests admitted but not yet producing tokens. */
    public int waiting() {
        return serving.admission().waiting();
    }

    /**
     * Graceful shutdown: refuses new requests (503 with Retry-After), lets running ones finish within the
     * shutdown timeout, then stops listening and closes the connections (streams still open are cut, and so
     * their requests aborted).
     */
    public void shutdown() {
        if (stopped) {
            return;
        }
        stopped = true;
        serving.admission().drain();
        long deadline = System.nanoTime() + serving.config().shutdownTimeout().toNanos();
        try {
            while (active.get() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Our own count decides when to stop: HttpServer.stop(delay) may wait out the whole delay.
        http.stop(0);
        executor.shutdownNow();
    }

    @Override
    public void close() {
        shutdown();
    }

    private void exchange(HttpExchange ex) {
        active.incrementAndGet();
        try (ex) {
            // Every response names its request, with the client's own id when it sent one (as vLLM does).
            String requestId = ex.getRequestHeaders().getFirst(REQUEST_ID);
            ex.getResponseHeaders().set(REQUEST_ID, requestId != null && !requestId.isBlank() && requestId.length() <= 256
                    ? requestId : UUID.randomUUID().toString().replace("-", ""));
            try {
                route(ex);
            } catch (ApiException e) {
                if (e.status == 503) {
                    serving.metrics().onRejected();
                }
                HttpIo.error(ex, e);
            } catch (IOException e) {
                // The client went away.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                System.err.println("pagoda serve: " + ex.getRequestMethod() + " " + ex.getRequestURI() + " failed: " + e);
                HttpIo.error(ex, new ApiException(500, "server_error", "internal error: " + e.getMessage(), null, null, 0));
            }
        } catch (IOException | RuntimeException e) {
            // Writing the error failed: the client went away.
        } finally {
            active.decrementAndGet();
        }
    }

    private void route(HttpExchange ex) throws IOException, InterruptedException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        if (!path.equals("/health")) {
            authorize(ex);
        }
        switch (path) {
            case "/health" -> {
                expect(method, "GET", path);
                HttpIo.send(ex, 200, "text/plain", "");
            }
            case "/version" -> {
                expect(method, "GET", path);
                HttpIo.json(ex, 200, JsonFields.JSON.createObjectNode().put("version", VERSION));
            }
            case "/v1/models" -> {
                expect(method, "GET", path);
                HttpIo.json(ex, 200, models());
            }
            case "/metrics" -> {
                expect(method, "GET", path);
                HttpIo.send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", serving.metrics().render(serving.engine()));
            }
            case "/tokenize" -> {
                expect(method, "POST", path);
                HttpIo.json(ex, 200, tokenize(body(ex)));
            }
            case "/detokenize" -> {
                expect(method, "POST", path);
                HttpIo.json(ex, 200, detokenize(body(ex)));
            }
            case "/v1/completions" -> {
                expect(method, "POST", path);
                completions.handle(ex, body(ex));
            }
            case "/v1/chat/completions" -> {
                expect(method, "POST", path);
                chat.handle(ex, body(ex));
            }
            default -> throw ApiException.notFound("no endpoint " + path, null, "not_found");
        }
    }

    private ObjectNode body(HttpExchange ex) throws IOException {
        return JsonFields.parseObject(HttpIo.body(ex, serving.config().maxBodyBytes()));
    }

    private static void expect(String method, String expected, String path) {
        if (!method.equals(expected)) {
            throw ApiException.methodNotAllowed(method, path);
        }
    }

    private void authorize(HttpExchange ex) {
        if (apiKey == null) {
            return;
        }
        String given = ex.getRequestHeaders().getFirst("Authorization");
        if (given == null || !MessageDigest.isEqual(apiKey, given.getBytes(StandardCharsets.UTF_8))) {
            throw ApiException.unauthorized();
        }
    }

    private ObjectNode models() {
        ObjectNode root = JsonFields.JSON.createObjectNode();
        root.put("object", "list");
        ObjectNode m = root.putArray("data").addObject();
        m.put("id", serving.config().servedModelName());
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "pagoda");
        m.put("root", serving.model().name());
        m.put("max_model_len", serving.engine().maxModelLen());
        return root;
    }

    /** {@code {prompt, add_special_tokens}} or {@code {messages, add_generation_prompt}} to {@code {count, max_model_len, tokens}}. */
    private ObjectNode tokenize(ObjectNode body) {
        serving.checkModel(JsonFields.optString(body, "model"));
        int[] tokens;
        if (body.has("messages")) {
            tokens = ChatCompletionsEndpoint.promptTokens(serving, body);
        } else {
            String prompt = JsonFields.optString(body, "prompt");
            if (prompt == null) {
                throw ApiException.badRequest("prompt (a string) or messages is required", "prompt");
            }
            Boolean special = JsonFields.optBool(body, "add_special_tokens");
            tokens = serving.tokenizer().encode(prompt, special == null || special, false);
        }
        ObjectNode out = JsonFields.JSON.createObjectNode();
        out.put("count", tokens.length);
        out.put("max_model_len", serving.engine().maxModelLen());
        ArrayNode t = out.putArray("tokens");
        for (int id : tokens) {
            t.add(id);
        }
        Boolean strs = JsonFields.optBool(body, "return_token_strs");
        if (strs != null && strs) {
            // vLLM's field: each token's vocabulary entry as stored.
            ArrayNode pieces = out.putArray("token_strs");
            for (int id : tokens) {
                pieces.add(serving.tokenizer().piece(id));
            }
        }
        return out;
    }

    /** {@code {tokens}} to {@code {prompt}}. */
    private ObjectNode detokenize(ObjectNode body) {
        serving.checkModel(JsonFields.optString(body, "model"));
        int[] tokens = JsonFields.optInts(body, "tokens");
        if (tokens == null) {
            throw ApiException.badRequest("tokens (an array of token ids) is required", "tokens");
        }
        int vocab = serving.tokenizer().vocabSize();
        for (int id : tokens) {
            if (id < 0 || id >= vocab) {
                throw ApiException.badRequest("token id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")", "tokens");
            }
        }
        return JsonFields.JSON.createObjectNode().put("prompt", serving.tokenizer().decode(tokens, false));
    }

    /** The metrics text now (tests and embedding). */
    public String metricsText() {
        return serving.metrics().render(serving.engine());
    }

}
