package dev.pagoda.server;

import dev.pagoda.InvalidParameterException;
import dev.pagoda.PagodaException;
import dev.pagoda.engine.LLMEngine;
import dev.pagoda.engine.RequestHandle;
import dev.pagoda.engine.RequestOutput;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The engine requests of one HTTP request (one per prompt; each with n completions), their increments merged
 * into one stream in arrival order. Choice {@code i} of the response is completion {@code i % n} of prompt
 * {@code i / n}, as OpenAI numbers batched prompts.
 */
final class Generation {
    /** One increment, tagged with its response choice index. */
    record Event(int choice, RequestOutput output) {
    }

    private final LLMEngine engine;
    private final ServerMetrics metrics;
    private final int n;
    private final List<RequestHandle> handles = new ArrayList<>();
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Admission admission;
    private int openChoices;

    private Generation(LLMEngine engine, ServerMetrics metrics, Admission admission, int n) {
        this.engine = engine;
        this.metrics = metrics;
        this.admission = admission;
        this.n = n;
    }

    /**
     * Adds one engine request per prompt. Input the engine rejects becomes a 400 (naming the parameter when
     * it says which); requests already added are then aborted.
     */
    static Generation start(LLMEngine engine, ServerMetrics metrics, Admission admission, String id, List<int[]> prompts,
                            SamplingParams params) {
        Generation g = new Generation(engine, metrics, admission, params.n());
        admission.enter(prompts.size());
        try {
            for (int p = 0; p < prompts.size(); p++) {
                g.submit(id + "-" + p, p, prompts.get(p), params);
            }
        } catch (RuntimeException e) {
            // Submitted requests leave admission through their forwarders; the rest leave here.
            admission.leave(prompts.size() - g.handles.size());
            g.abort();
            if (e instanceof PagodaException pe) {
                throw ApiException.badRequest(pe.getMessage(), pe instanceof InvalidParameterException ip ? ip.param() : "prompt");
            }
            throw e;
        }
        return g;
    }

    private void submit(String requestId, int prompt, int[] tokens, SamplingParams params) {
        RequestHandle h = engine.addRequest(requestId, tokens, params);
        handles.add(h);
        openChoices += n;
        Thread.ofVirtual().name("pagoda-stream-" + requestId).start(() -> forward(h, prompt));
    }

    /** Moves one request's increments into the merged stream, timing the gaps between them. */
    private void forward(RequestHandle h, int prompt) {
        boolean[] done = new boolean[n];
        int open = n;
        long last = 0;
        boolean started = false;
        try {
            while (open > 0) {
                RequestOutput o = h.next();
                long now = System.nanoTime();
                if (o.newTokenIds().length > 0) {
                    if (!started) {
                        started = true;
                        admission.leave(1);
                    } else {
                        metrics.onInterToken(now - last);
                    }
                    last = now;
                }
                if (o.error() != null) {
                    // A failed request ends every completion still open, with the error.
                    for (int i = 0; i < n; i++) {
                        if (!done[i]) {
                            events.add(new Event(prompt * n + i, o));
                        }
                    }
                    break;
                }
                events.add(new Event(prompt * n + o.index(), o));
                if (o.finished() && !done[o.index()]) {
                    done[o.index()] = true;
                    open--;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (!started) {
                admission.leave(1);
            }
        }
    }

    /** The next increment of any choice, or null once every choice has finished. */
    Event next() throws InterruptedException {
        if (openChoices == 0) {
            return null;
        }
        return counted(events.take());
    }

    /** The next increment of any choice within {@code millis}; null after the wait or once every choice has finished. */
    Event poll(long millis) throws InterruptedException {
        if (openChoices == 0) {
            return null;
        }
        return counted(events.poll(millis, TimeUnit.MILLISECONDS));
    }

    boolean finished() {
        return openChoices == 0;
    }

    private Event counted(Event e) {
        if (e != null && e.output().finished()) {
            openChoices--;
        }
        return e;
    }

    /** Aborts every engine request of this HTTP request (the client went away); their KV is freed at the next step. */
    void abort() {
        for (RequestHandle h : handles) {
            engine.abort(h.id());
        }
    }

    int choices() {
        return handles.size() * n;
    }

    int promptTokens() {
        int t = 0;
        for (RequestHandle h : handles) {
            t += h.promptTokenIds().length;
        }
        return t;
    }

    /** The finished requests in prompt order (after {@link #next} returned null); records their metrics. */
    List<RequestResult> results() {
        List<RequestResult> out = new ArrayList<>(handles.size());
        for (RequestHandle h : handles) {
            RequestResult r;
            try {
                r = h.result().join();
            } catch (CompletionException e) {
                throw new IllegalStateException("the engine failed request " + h.id() + ": " + e.getCause().getMessage(), e.getCause());
            }
            metrics.onFinished(r);
            out.add(r);
        }
        return out;
    }
}
