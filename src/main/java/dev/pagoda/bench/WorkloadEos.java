package dev.pagoda.bench;

import dev.pagoda.engine.LLMEngine;
import dev.pagoda.engine.RequestHandle;
import dev.pagoda.engine.RequestOutput;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * EOS stand-in for requests that ask for the rest of the context: ends each at its workload length. It is the
 * engine's step hook, so it reads each step's tokens on the engine thread and its abort is queued before the
 * next step begins: a request computes exactly its workload's tokens, whatever the load (a watcher thread
 * lagging behind the engine would let it run on).
 * Engine thread only: requests are watched from inside {@link LLMEngine#inspect} and read by the hook.
 */
final class WorkloadEos implements Runnable {
    private final LLMEngine engine;
    private final List<Watched> live = new ArrayList<>();

    private static final class Watched {
        final RequestHandle handle;
        final int length;
        int seen;

        Watched(RequestHandle handle, int length) {
            this.handle = handle;
            this.length = length;
        }
    }

    WorkloadEos(LLMEngine engine) {
        this.engine = engine;
        engine.setStepHook(this);
    }

    /** Ends {@code handle}'s request once it has generated {@code length} tokens. */
    void watch(RequestHandle handle, int length) {
        live.add(new Watched(handle, length));
    }

    @Override
    public void run() {
        for (int i = live.size() - 1; i >= 0; i--) {
            Watched w = live.get(i);
            boolean finished = false;
            try {
                for (RequestOutput out = w.handle.next(0, TimeUnit.NANOSECONDS); out != null && !finished;
                     out = w.handle.next(0, TimeUnit.NANOSECONDS)) {
                    w.seen += out.newTokenIds().length;
                    finished = out.finished();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (finished || w.seen >= w.length) {
                if (!finished) {
                    engine.abort(w.handle.id());
                }
                live.remove(i);
            }
        }
    }
}
