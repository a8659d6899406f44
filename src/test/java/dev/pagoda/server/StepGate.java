package dev.pagoda.server;

import dev.pagoda.Await;
import dev.pagoda.engine.LLMEngine;
import java.util.concurrent.CountDownLatch;

/**
 * Holds the engine after its {@code steps}-th step with a running request (counted from now), that step's block
 * map and gauges published, so that a request stays in the middle of its generation, however fast the engine,
 * until the test opens the gate. Unlike {@link dev.pagoda.engine.EngineGate}, which holds before the requests sent meanwhile run.
 */
final class StepGate implements AutoCloseable {
    private final LLMEngine engine;
    private final CountDownLatch holding = new CountDownLatch(1);
    private final CountDownLatch open = new CountDownLatch(1);
    private int counted;

    StepGate(LLMEngine engine, int steps) {
        this.engine = engine;
        engine.setStepHook(() -> {
            if (engine.gauges().running() == 0 || ++counted < steps) {
                return;
            }
            engine.setStepHook(null);
            holding.countDown();
            try {
                open.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Waits until the engine is held; fails (after the hang guard) when no request ran that many steps. */
    void awaitHeld() throws InterruptedException {
        Await.until(holding, "the engine to reach the step to hold at (did the request finish before it?)");
    }

    @Override
    public void close() {
        engine.setStepHook(null);
        open.countDown();
    }
}
