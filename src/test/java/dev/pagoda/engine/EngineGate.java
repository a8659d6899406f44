package dev.pagoda.engine;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * Holds the engine between two steps (a query through {@link LLMEngine#inspect} that waits), so that requests stay
 * unfinished, however fast the engine, until the test opens the gate. Requests and aborts sent meanwhile queue up
 * and run, in order, once it opens.
 */
public final class EngineGate implements AutoCloseable {
    private final CountDownLatch open = new CountDownLatch(1);
    private final CompletableFuture<Void> held;

    public EngineGate(LLMEngine engine) throws InterruptedException {
        CountDownLatch holding = new CountDownLatch(1);
        held = CompletableFuture.runAsync(() -> engine.inspect(() -> {
            holding.countDown();
            try {
                open.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }));
        holding.await();
    }

    @Override
    public void close() {
        open.countDown();
        held.join();
    }
}
