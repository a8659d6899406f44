package dev.pagoda.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.PagodaException;
import dev.pagoda.engine.LLM;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The OpenAI-compatible HTTP server over one engine: completions and chat
 * (whole or streamed as Server-Sent Events), models, health, version, tokenize, detokenize and Prometheus
 * metrics; the web page ({@code /}) and the KV block map it draws ({@code /v1/kv/blocks}, {@code /v1/kv/stream}).
 * One virtual thread per connection ({@link HttpListener}); a generating request blocks on its requests'
 * increments, watching its client. Every request gets one access line in the {@link ServerLog}; while busy, an engine
 * stats line comes every {@link ServerConfig#logStatsInterval} ({@link StatsLogger}).
 *
 * <p>The server does not own the {@link LLM}: close the server first, then the LLM.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final String REQUEST_ID = "x-request-id";
    public static final String VERSION = "0.1.0";

    private final HttpListener http;
    private final Serving serving;
    private final CompletionsEndpoint completions;
    private final ChatCompletionsEndpoint chat;
    private final KvMapEndpoints kvMap;
    private final WebPage page = new WebPage();
    private final byte[] apiKey;
    private final ServerLog log;
    private final JsonBody bodies;
    private final StatsLogger stats;
    private final long created = System.currentTimeMillis() / 1000;
    private final AtomicInteger active = new AtomicInteger();
    private volatile boolean stopped;

    private OpenAiServer(LLM llm, ServerConfig config, ServerLog log) throws IOException {
        this.log = log;
        PromptBound bound = new PromptBound(llm.model().tokenizer(), llm.engine().maxModelLen());
        if (config.maxBodyBytes() == 0) {
            config = config.toBuilder().maxBodyBytes(bound.defaultBodyBytes()).build();
        }
        this.bodies = new JsonBody(bound, config.maxBodyBytes());
        ServerMetrics metrics = new ServerMetrics(config.servedModelName(), log);
        this.serving = new Serving(llm.engine(), llm.model(), config, metrics, new Admission(config.maxWaiting()),
                ChatTemplate.of(llm.model()), bound, systemFingerprint(llm));
        this.completions = new CompletionsEndpoint(serving);
        this.chat = new ChatCompletionsEndpoint(serving);
        this.kvMap = new KvMapEndpoints(serving);
        this.apiKey = config.apiKey() == null ? null : ("Bearer " + config.apiKey()).getBytes(StandardCharsets.UTF_8);
        this.http = new HttpListener(config, metrics, this::exchange);
        this.stats = config.logStatsInterval().isZero() ? null
                : new StatsLogger(llm.engine(), log, serving.admission()::waiting, config.logStatsInterval());
    }

    /**
     * {@code fp_} and 12 hex digits of a hash of what decides the outputs: this version, the model (name, format,
     * shape) and the KV cache's number type. Batch, chunking and cache settings do not change outputs, so they are left out.
     */
    static String systemFingerprint(LLM llm) {
        String what = VERSION + "|" + llm.model().name() + "|" + llm.model().format() + "|" + llm.model().config() + "|"
                + llm.engine().config().kvDtype();
        try {
            return "fp_" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(what.getBytes(StandardCharsets.UTF_8)), 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Binds and starts serving, logging to stderr; a port of 0 picks a free one (see {@link #port()}). */
    public static OpenAiServer start(LLM llm, ServerConfig config) {
        return start(llm, config, System.err::println);
    }

    /** Binds and starts serving, each log line to {@code logSink}. */
    public static OpenAiServer start(LLM llm, ServerConfig config, Consumer<String> logSink) {
        ServerLog log = new ServerLog(config.logLevel(), config.logFormat(), logSink);
        try {
            OpenAiServer s = new OpenAiServer(llm, config, log);
            s.http.start();
            return s;
        } catch (IOException e) {
            throw new PagodaException("cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage());
        }
    }

    /** The server's log (the CLI writes its own lines there, in the same format). */
    public ServerLog log() {
        return log;
    }

    public int port() {
        return http.port();
    }

    /** The request body limit in force (configured, or derived from the context). */
    public long maxBodyBytes() {
        return serving.config().maxBodyBytes();
    }

    /** Client connections open now. */
    public int openConnections() {
        return http.openConnections();
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
        // Cut streams abort their requests as their handlers find the connection closed.
        http.close(2000);
        if (stats != null) {
            stats.close();
        }
    }

    @Override
    public void close() {
        shutdown();
    }

    private void exchange(Exchange ex) {
        active.incrementAndGet();
        AccessRecord access = null;
        try {
            // Every response names its request, with the client's own id when it sent one (as vLLM does).
            String requestId = ex.header(REQUEST_ID);
            requestId = requestId != null && !requestId.isBlank() && requestId.length() <= 256
                    ? requestId : UUID.randomUUID().toString().replace("-", "");
            ex.responseHeader(REQUEST_ID, requestId);
            access = new AccessRecord(requestId, ex.method(), ex.path(), ex.client(), ex.startNanos);
            try {
                route(ex, access);
            } catch (ApiException e) {
                if (e.rejection != null) {
                    serving.metrics().onRejected(e.rejection, e.getMessage());
                }
                HttpIo.error(ex, e);
            } catch (ReadTimeoutException e) {
                serving.metrics().onRejected(e.reason, ex.method() + " " + ex.path() + ": the body did not arrive within --body-timeout");
                HttpIo.error(ex, new ApiException(408, "invalid_request_error", "the request body was not received within "
                        + serving.config().bodyTimeout().toSeconds() + " s", null, "request_timeout", 0));
            } catch (IOException e) {
                // The client went away.
                ex.abandon();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ex.abandon();
            } catch (RuntimeException e) {
                log.error(ex.method() + " " + ex.path() + " failed: " + e);
                HttpIo.error(ex, new ApiException(500, "server_error", "internal error: " + e.getMessage(), null, null, 0));
            }
        } catch (IOException | RuntimeException e) {
            // Writing the error failed: the client went away.
            ex.abandon();
        } finally {
            if (access != null) {
                logAccess(ex, access);
            }
            active.decrementAndGet();
        }
    }

    /** The request's access line: INFO, but DEBUG for the probes (/health, /metrics) that load balancers and scrapers repeat. */
    private void logAccess(Exchange ex, AccessRecord access) {
        boolean probe = ex.path().equals("/health") || ex.path().equals("/metrics");
        ServerLog.Level level = probe ? ServerLog.Level.DEBUG : ServerLog.Level.INFO;
        if (log.enabled(level)) {
            log.log(level, "access", "", access.fields(ex.status() == 0 ? AccessRecord.CLIENT_GONE : ex.status(), System.nanoTime()));
        }
    }

    private void route(Exchange ex, AccessRecord access) throws IOException, InterruptedException {
        String path = ex.path();
        String method = ex.method();
        // The page is public: it asks for the key, then sends it with its own calls.
        if (!path.equals("/health") && !path.equals("/") && !(path.equals("/metrics") && serving.config().publicMetrics())) {
            authorize(ex);
        }
        switch (path) {
            case "/" -> {
                expect(method, "GET", path);
                page.serve(ex);
            }
            case "/health" -> {
                expect(method, "GET", path);
                // 503 while draining, so that load balancers stop routing here.
                HttpIo.send(ex, serving.admission().draining() ? 503 : 200, "text/plain", "");
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
            case "/v1/kv/blocks" -> {
                expect(method, "GET", path);
                kvMap.blocks(ex);
            }
            case "/v1/kv/stream" -> {
                expect(method, "GET", path);
                kvMap.stream(ex);
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
                completions.handle(ex, body(ex), access);
            }
            case "/v1/chat/completions" -> {
                expect(method, "POST", path);
                chat.handle(ex, body(ex), access);
            }
            default -> throw ApiException.notFound("no endpoint " + path, null, "not_found");
        }
    }

    private ObjectNode body(Exchange ex) throws IOException {
        return bodies.read(ex);
    }

    /** HEAD is answered as GET without the body. */
    private static void expect(String method, String expected, String path) {
        if (!method.equals(expected) && !(method.equals("HEAD") && expected.equals("GET"))) {
            throw ApiException.methodNotAllowed(method, path);
        }
    }

    private void authorize(Exchange ex) {
        if (apiKey == null) {
            return;
        }
        String given = ex.header("Authorization");
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
        // vLLM's root: where the model was loaded from, so a client on this machine (bench serve) can open its tokenizer.
        m.put("root", serving.model().source().toAbsolutePath().toString());
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
            tokens = serving.encode(prompt, special == null || special, false, "prompt");
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

    ServerMetrics metrics() {
        return serving.metrics();
    }

    /** The metrics text now (tests and embedding). */
    public String metricsText() {
        return serving.metrics().render(serving.engine());
    }

}
