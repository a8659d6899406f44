package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.InvalidParameterException;
import dev.pagoda.PagodaException;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.sampling.SamplingParams;
import java.io.IOException;
import java.util.List;
import java.util.UUID;

/**
 * The generation endpoints' common path: parse, admit, run through the engine, answer whole or streamed.
 * A client that goes away has its engine requests aborted (see {@link ClientWatch}).
 */
abstract class GenerationEndpoint {
    /** A parsed request: token prompts and how to sample them (chat: its tools, or null). */
    record Prepared(List<int[]> prompts, SamplingParams params, boolean stream, boolean includeUsage, ToolRequest tools) {
        Prepared(List<int[]> prompts, SamplingParams params, boolean stream, boolean includeUsage) {
            this(prompts, params, stream, includeUsage, null);
        }
    }

    final Serving serving;

    GenerationEndpoint(Serving serving) {
        this.serving = serving;
    }

    abstract Prepared prepare(ObjectNode body);

    abstract ResponseShape shape(String id, int choices);

    /** The shape of a prepared request's response (chat replaces it to carry the request's tools). */
    ResponseShape shape(String id, int choices, Prepared p) {
        return shape(id, choices);
    }

    abstract String idPrefix();

    /** Answers one request; {@code access} hears of its results for the access log. */
    final void handle(Exchange ex, ObjectNode body, AccessRecord access) throws IOException, InterruptedException {
        serving.checkModel(JsonFields.optString(body, "model"));
        Prepared p = prepare(body);
        serving.checkStopTokens(p.params());
        String id = idPrefix() + UUID.randomUUID().toString().replace("-", "");
        Generation g = Generation.start(serving.engine(), serving.metrics(), serving.admission(), id, p.prompts(), p.params());
        ResponseShape shape = shape(id, g.choices(), p);
        ClientWatch client = new ClientWatch(ex);
        SseStream sse = null;
        try {
            if (p.stream()) {
                sse = new SseStream(ex);
                for (ObjectNode chunk : shape.opening(g.choices())) {
                    sse.send(withUsage(chunk, p.includeUsage()));
                }
            }
            for (Generation.Event e = client.next(g); e != null; e = client.next(g)) {
                if (sse == null) {
                    // The increments only time the stream (metrics); the whole text comes with the results.
                    continue;
                }
                if (e.output().error() != null) {
                    sse.send(HttpIo.errorBody(new ApiException(500, "server_error", e.output().error(), null, null, 0)));
                    continue;
                }
                for (ObjectNode chunk : shape.chunks(e.choice(), e.output())) {
                    sse.send(withUsage(chunk, p.includeUsage()));
                }
            }
        } catch (IOException gone) {
            // The client went away (a write failed, or the connection was found closed): abort, and drain to the
            // aborted increments so the results (and metrics) complete.
            g.abort();
            serving.metrics().onDisconnected();
            while (g.next() != null) {
                // Drained.
            }
            access.results(g.results());
            throw gone;
        } catch (InterruptedException e) {
            g.abort();
            throw e;
        }
        List<RequestResult> results = g.results();
        access.results(results);
        if (sse == null) {
            HttpIo.json(ex, 200, shape.response(results));
            return;
        }
        // Every request already finished: a client gone now has nothing left to abort.
        if (p.includeUsage()) {
            sse.send(shape.usageChunk(results));
        }
        sse.done();
    }

    /**
     * Waits for a generation's increments while asking, every {@link #PROBE_MILLIS}, whether the client is still
     * connected: every request, streamed or not, is aborted within a fraction of a second of its client leaving,
     * even while it produces nothing to write.
     */
    private static final class ClientWatch {
        private static final long PROBE_MILLIS = 200;
        private final Exchange ex;
        private long lastProbe = System.nanoTime();

        ClientWatch(Exchange ex) {
            this.ex = ex;
        }

        /** The next increment, or null once every choice finished; an IOException when the client has gone. */
        Generation.Event next(Generation g) throws IOException, InterruptedException {
            while (true) {
                long now = System.nanoTime();
                if (now - lastProbe >= PROBE_MILLIS * 1_000_000) {
                    lastProbe = now;
                    if (ex.clientGone()) {
                        throw new IOException("the client closed the connection");
                    }
                }
                Generation.Event e = g.poll(PROBE_MILLIS);
                if (e != null || g.finished()) {
                    return e;
                }
            }
        }
    }

    /** With include_usage every chunk carries {@code "usage": null} but the last. */
    private static JsonNode withUsage(ObjectNode chunk, boolean includeUsage) {
        if (includeUsage) {
            chunk.putNull("usage");
        }
        return chunk;
    }

    /** The stream flags: {@code stream} and {@code stream_options.include_usage}. */
    static boolean[] streamFlags(ObjectNode body) {
        boolean stream = Boolean.TRUE.equals(JsonFields.optBool(body, "stream"));
        JsonNode opts = body.get("stream_options");
        boolean usage = false;
        if (opts != null && !opts.isNull()) {
            if (!opts.isObject()) {
                throw ApiException.badRequest("stream_options must be an object", "stream_options");
            }
            if (!stream) {
                throw ApiException.badRequest("stream_options is only allowed when stream is true", "stream_options");
            }
            usage = Boolean.TRUE.equals(JsonFields.optBool(opts, "include_usage"));
        }
        return new boolean[] {stream, usage};
    }

    /** Builds the sampling parameters: a 400 naming the field for a value out of range. */
    static SamplingParams build(SamplingParams.Builder b) {
        try {
            return b.build();
        } catch (InvalidParameterException e) {
            throw ApiException.badRequest(e.getMessage(), e.param());
        } catch (PagodaException e) {
            throw ApiException.badRequest(e.getMessage(), null);
        }
    }

    static void unsupported(ObjectNode body, String... fields) {
        for (String f : fields) {
            JsonNode v = body.get(f);
            if (v != null && !v.isNull() && !(v.isBoolean() && !v.booleanValue()) && !(v.isArray() && v.isEmpty())) {
                throw ApiException.badRequest(f + " is not supported by this server", f);
            }
        }
    }
}
