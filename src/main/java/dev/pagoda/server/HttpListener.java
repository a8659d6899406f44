package dev.pagoda.server;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Accepts connections and runs each on a virtual thread ({@link HttpConnection}). Past the open-connection cap a
 * new connection is answered 503 with Retry-After and closed at once, so file descriptors and threads stay
 * bounded however many clients connect.
 */
final class HttpListener {
    /** Refusals being written at once, at most; past it a connection over the cap is just closed. */
    private static final int MAX_REFUSING = 64;

    private final ServerSocket server;
    private final ServerConfig config;
    private final ServerMetrics metrics;
    private final Consumer<Exchange> handler;
    private final Map<HttpConnection, Thread> open = new ConcurrentHashMap<>();
    private final AtomicInteger refusing = new AtomicInteger();
    private final Thread acceptor;
    private volatile boolean closed;

    HttpListener(ServerConfig config, ServerMetrics metrics, Consumer<Exchange> handler) throws IOException {
        this.config = config;
        this.metrics = metrics;
        this.handler = handler;
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(config.host(), config.port()), 1024);
        this.acceptor = Thread.ofPlatform().name("pagoda-http-accept").daemon().unstarted(this::accept);
    }

    void start() {
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    int openConnections() {
        return open.size();
    }

    private void accept() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue;
            }
            if (open.size() >= config.maxConnections()) {
                refuse(s);
                continue;
            }
            HttpConnection c = new HttpConnection(s, config, metrics, handler);
            Thread t = Thread.ofVirtual().name("pagoda-http-", 0).unstarted(() -> {
                try {
                    c.run();
                } finally {
                    open.remove(c);
                }
            });
            open.put(c, t);
            t.start();
        }
    }

    /** 503 and close; the request the client may already have sent is read and dropped briefly so it sees the answer, not a reset. */
    private void refuse(Socket s) {
        metrics.onRejected(Rejection.TOO_MANY_CONNECTIONS, "open connections reached --max-connections " + config.maxConnections());
        if (refusing.incrementAndGet() > MAX_REFUSING) {
            refusing.decrementAndGet();
            closeQuietly(s);
            return;
        }
        Thread.ofVirtual().start(() -> {
            try (s) {
                OutputStream out = s.getOutputStream();
                HttpIo.writeClosing(out, ApiException.overloaded("too many open connections (" + config.maxConnections()
                        + ", see --max-connections); retry later", 1, Rejection.TOO_MANY_CONNECTIONS));
                s.shutdownOutput();
                s.setSoTimeout(200);
                byte[] drop = new byte[4096];
                long deadline = System.nanoTime() + 500_000_000L;
                while (System.nanoTime() < deadline && s.getInputStream().read(drop) >= 0) {
                    // Dropped.
                }
            } catch (IOException e) {
                // The client went away first.
            } finally {
                refusing.decrementAndGet();
            }
        });
    }

    /**
     * Stops accepting, closes every open connection (a stream still running is cut, and so aborted), and waits up to
     * {@code waitMillis} for their threads to end.
     */
    void close(long waitMillis) {
        closed = true;
        closeQuietly(server);
        for (HttpConnection c : open.keySet()) {
            closeQuietly(c.socket());
        }
        long deadline = System.nanoTime() + waitMillis * 1_000_000;
        for (Thread t : open.values()) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                break;
            }
            try {
                t.join(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // Closing is best effort.
        }
    }
}
