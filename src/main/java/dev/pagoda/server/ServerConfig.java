package dev.pagoda.server;

import dev.pagoda.PagodaException;
import java.time.Duration;

/**
 * How {@code pagoda serve} listens and admits requests.
 *
 * @param host             address to bind (127.0.0.1 unless told otherwise)
 * @param port             TCP port; 0 picks a free one
 * @param apiKey           when set, every endpoint but /health (and /metrics when publicMetrics) needs
 *                         {@code Authorization: Bearer apiKey}
 * @param servedModelName  the model id clients name; requests naming another get 404
 * @param maxWaiting       requests admitted but not yet producing tokens, at most; more get 503 with Retry-After
 * @param maxBodyBytes     request bodies above this get 413; 0 derives it from the context (see {@link PromptBound})
 * @param shutdownTimeout  how long a graceful shutdown lets running requests finish
 * @param headerTimeout    a request line and headers must arrive within this (from the connection, or from the
 *                         first byte of a later request on it)
 * @param bodyTimeout      a request body must arrive within this once its reading begins
 * @param idleTimeout      how long a keep-alive connection may wait between requests
 * @param maxConnections   open client connections at most; more are answered 503 and closed
 * @param publicMetrics    /metrics answers without the API key (vLLM leaves it open)
 * @param toolCallParser   how {@code tool_choice: auto} finds calls in the text (hermes, llama3_json); null: it does not
 * @param logLevel         the least severe log lines written (access lines are INFO, /health and /metrics ones DEBUG)
 * @param logFormat        text or one JSON object per line
 * @param logStatsInterval how often the engine stats line is written while busy; zero: never
 */
public record ServerConfig(String host, int port, String apiKey, String servedModelName, int maxWaiting, long maxBodyBytes,
                           Duration shutdownTimeout, Duration headerTimeout, Duration bodyTimeout, Duration idleTimeout,
                           int maxConnections, boolean publicMetrics, String toolCallParser, ServerLog.Level logLevel,
                           ServerLog.Format logFormat, Duration logStatsInterval) {
    public static final int DEFAULT_PORT = 8000;
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_CONNECTIONS = 4096;
    /** vLLM's stats interval. */
    public static final Duration DEFAULT_LOG_STATS_INTERVAL = Duration.ofSeconds(10);

    public ServerConfig {
        if (port < 0 || port > 65535) {
            throw new PagodaException("--port must be in 0..65535, got " + port);
        }
        if (maxWaiting < 1) {
            throw new PagodaException("--max-waiting must be at least 1, got " + maxWaiting);
        }
        if (maxBodyBytes != 0 && maxBodyBytes < 1024) {
            throw new PagodaException("--max-body-size must be at least 1KiB, got " + maxBodyBytes + " bytes");
        }
        positive(headerTimeout, "--header-timeout");
        positive(bodyTimeout, "--body-timeout");
        positive(idleTimeout, "--idle-timeout");
        if (maxConnections < 1) {
            throw new PagodaException("--max-connections must be at least 1, got " + maxConnections);
        }
        if (apiKey != null && apiKey.isBlank()) {
            apiKey = null;
        }
        if (toolCallParser != null) {
            ToolCallParser.named(toolCallParser);
        }
        if (logStatsInterval.isNegative()) {
            throw new PagodaException("--log-stats-interval must not be negative, got " + logStatsInterval.toMillis() + " ms");
        }
    }

    /** The default timeouts and connection cap; warnings and errors logged as text, no stats line (tests and embedding). */
    public ServerConfig(String host, int port, String apiKey, String servedModelName, int maxWaiting, long maxBodyBytes,
                        Duration shutdownTimeout) {
        this(host, port, apiKey, servedModelName, maxWaiting, maxBodyBytes, shutdownTimeout, DEFAULT_HEADER_TIMEOUT,
                DEFAULT_BODY_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, false, null, ServerLog.Level.WARN,
                ServerLog.Format.TEXT, Duration.ZERO);
    }

    private static void positive(Duration d, String option) {
        if (d.isNegative() || d.isZero()) {
            throw new PagodaException(option + " must be positive, got " + d.toMillis() + " ms");
        }
    }

    /** Loopback, a free port, no key, the body limit derived from the context, default timeouts: for tests and embedding. */
    public static ServerConfig loopback(String servedModelName) {
        return new ServerConfig("127.0.0.1", 0, null, servedModelName, 1024, 0, Duration.ofSeconds(30));
    }

    /** A copy to change a few settings of (tests, and the server's derived body limit). */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The settings of a {@link ServerConfig}, changed one at a time; {@link #build} checks them all. */
    public static final class Builder {
        private final ServerConfig from;
        private String apiKey;
        private int maxWaiting;
        private long maxBodyBytes;
        private Duration headerTimeout;
        private Duration bodyTimeout;
        private Duration idleTimeout;
        private int maxConnections;
        private boolean publicMetrics;
        private String toolCallParser;
        private ServerLog.Level logLevel;
        private ServerLog.Format logFormat;
        private Duration logStatsInterval;

        private Builder(ServerConfig c) {
            from = c;
            apiKey = c.apiKey;
            maxWaiting = c.maxWaiting;
            maxBodyBytes = c.maxBodyBytes;
            headerTimeout = c.headerTimeout;
            bodyTimeout = c.bodyTimeout;
            idleTimeout = c.idleTimeout;
            maxConnections = c.maxConnections;
            publicMetrics = c.publicMetrics;
            toolCallParser = c.toolCallParser;
            logLevel = c.logLevel;
            logFormat = c.logFormat;
            logStatsInterval = c.logStatsInterval;
        }

        public Builder apiKey(String key) {
            apiKey = key;
            return this;
        }

        public Builder maxWaiting(int n) {
            maxWaiting = n;
            return this;
        }

        public Builder maxBodyBytes(long n) {
            maxBodyBytes = n;
            return this;
        }

        public Builder timeouts(Duration header, Duration body, Duration idle) {
            headerTimeout = header;
            bodyTimeout = body;
            idleTimeout = idle;
            return this;
        }

        public Builder maxConnections(int n) {
            maxConnections = n;
            return this;
        }

        public Builder publicMetrics(boolean open) {
            publicMetrics = open;
            return this;
        }

        public Builder toolCallParser(String parser) {
            toolCallParser = parser;
            return this;
        }

        /** @param statsInterval how often the stats line is written while busy; zero: never */
        public Builder logging(ServerLog.Level level, ServerLog.Format format, Duration statsInterval) {
            logLevel = level;
            logFormat = format;
            logStatsInterval = statsInterval;
            return this;
        }

        public ServerConfig build() {
            return new ServerConfig(from.host, from.port, apiKey, from.servedModelName, maxWaiting, maxBodyBytes, from.shutdownTimeout,
                    headerTimeout, bodyTimeout, idleTimeout, maxConnections, publicMetrics, toolCallParser, logLevel, logFormat,
                    logStatsInterval);
        }
    }
}
