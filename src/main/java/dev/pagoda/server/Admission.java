package dev.pagoda.server;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission control: requests admitted but not yet producing tokens (queued or prefilling) are counted;
 * past {@code maxWaiting} new ones are refused with 503 and Retry-After rather than queued without bound.
 */
final class Admission {
    private final int maxWaiting;
    private final AtomicInteger waiting = new AtomicInteger();
    private volatile boolean draining;

    Admission(int maxWaiting) {
        this.maxWaiting = maxWaiting;
    }

    /** Refuses (503) when the server is shutting down or the waiting queue is full; else counts one in. */
    void enter() {
        if (draining) {
            throw ApiException.overloaded("the server is shutting down", 5);
        }
        if (waiting.incrementAndGet() > maxWaiting) {
            waiting.decrementAndGet();
            throw ApiException.overloaded("the waiting queue is full (" + maxWaiting + " requests, see --max-waiting); retry later", 1);
        }
    }

    void leave() {
        waiting.decrementAndGet();
    }

    int waiting() {
        return waiting.get();
    }

    void drain() {
        draining = true;
    }
}
