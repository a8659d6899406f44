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

    /**
     * Counts in the {@code count} engine requests of one HTTP request, all or none. Refuses with 400 a request that
     * could never be admitted (more than maxWaiting at once: retrying cannot help), and with 503 (retry later) when
     * the server is shutting down or the waiting queue has no room for them now.
     */
    void enter(int count) {
        if (draining) {
            throw ApiException.overloaded("the server is shutting down", 5, Rejection.DRAINING);
        }
        if (count > maxWaiting) {
            throw ApiException.neverAdmitted("this request has " + count + " prompts, but at most " + maxWaiting
                    + " requests may wait at once (--max-waiting): send fewer prompts per request", "prompt");
        }
        if (waiting.addAndGet(count) > maxWaiting) {
            waiting.addAndGet(-count);
            throw ApiException.overloaded("the waiting queue is full (" + maxWaiting + " requests, see --max-waiting); retry later", 1,
                    Rejection.QUEUE_FULL);
        }
    }

    void leave(int count) {
        waiting.addAndGet(-count);
    }

    int waiting() {
        return waiting.get();
    }

    void drain() {
        draining = true;
    }

    boolean draining() {
        return draining;
    }
}
