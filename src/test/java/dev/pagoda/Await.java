package dev.pagoda;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Tests wait for a state, never for a time: a condition is polled (or a latch awaited) until it holds. The one limit,
 * {@link #HANG_GUARD}, only turns a hang into a failure that says what never happened; it is far above anything a
 * test waits for on a slow or loaded machine, so no test passes or fails by how fast anything runs.
 */
public final class Await {
    public static final Duration HANG_GUARD = Duration.ofMinutes(2);

    private Await() {
    }

    /** Returns once {@code condition} holds; fails naming {@code what} after the hang guard. */
    public static void until(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + HANG_GUARD.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("waited " + HANG_GUARD.toMinutes() + " minutes for " + what);
            }
            Thread.sleep(5);
        }
    }

    /** Returns once the latch is open; fails naming {@code what} after the hang guard. */
    public static void until(CountDownLatch latch, String what) throws InterruptedException {
        if (!latch.await(HANG_GUARD.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("waited " + HANG_GUARD.toMinutes() + " minutes for " + what);
        }
    }
}
