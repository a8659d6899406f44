package dev.pagoda.server;

import dev.pagoda.PagodaException;
import java.time.Duration;

/**
 * How {@code pagoda serve} listens and admits requests.
 *
 * @param host             address to bind (127.0.0.1 unless told otherwise)
 * @param port             TCP port; 0 picks a free one
 * @param apiKey           when set, every endpoint but /health needs {@code Authorization: Bearer apiKey}
 * @param servedModelName  the model id clients name; requests naming another get 404
 * @param maxWaiting       requests admitted but not yet producing tokens, at most; more get 503 with Retry-After
 * @param maxBodyBytes     request bodies above this get 413
 * @param shutdownTimeout  how long a graceful shutdown lets running requests finish
 */
public record ServerConfig(String host, int port, String apiKey, String servedModelName, int maxWaiting, long maxBodyBytes,
                           Duration shutdownTimeout) {
    public static final int DEFAULT_PORT = 8000;

    public ServerConfig {
        if (port < 0 || port > 65535) {
            throw new PagodaException("--port must be in 0..65535, got " + port);
        }
        if (maxWaiting < 1) {
            throw new PagodaException("--max-waiting must be at least 1, got " + maxWaiting);
        }
        if (maxBodyBytes < 1024) {
            throw new PagodaException("--max-body-size must be at least 1KiB, got " + maxBodyBytes + " bytes");
        }
        if (apiKey != null && apiKey.isBlank()) {
            apiKey = null;
        }
    }

    /** Loopback, a free port, no key, generous limits: for tests and embedding. */
    public static ServerConfig loopback(String servedModelName) {
        return new ServerConfig("127.0.0.1", 0, null, servedModelName, 1024, 16L << 20, Duration.ofSeconds(30));
    }
}
