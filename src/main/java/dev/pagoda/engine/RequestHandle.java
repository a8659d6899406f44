package dev.pagoda.engine;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The consumer's side of a request: a stream of {@link RequestOutput} increments (filled by the engine
 * thread) and the final result. Any thread may read it.
 */
public final class RequestHandle {
    private final String id;
    private final int[] promptTokenIds;
    final BlockingQueue<RequestOutput> stream = new LinkedBlockingQueue<>();
    final CompletableFuture<RequestResult> result = new CompletableFuture<>();

    RequestHandle(String id, int[] promptTokenIds) {
        this.id = id;
        this.promptTokenIds = promptTokenIds;
    }

    public String id() {
        return id;
    }

    public int[] promptTokenIds() {
        return promptTokenIds;
    }

    /**
     * The next increment; blocks until there is one. Each completion index ends with a finished increment;
     * a request failure ends the stream with an increment carrying the error.
     */
    public RequestOutput next() throws InterruptedException {
        return stream.take();
    }

    /** The next increment, or null after the timeout. */
    public RequestOutput next(long timeout, TimeUnit unit) throws InterruptedException {
        return stream.poll(timeout, unit);
    }

    /** Completes with the whole output, or exceptionally if the engine failed the request. */
    public CompletableFuture<RequestResult> result() {
        return result;
    }
}
