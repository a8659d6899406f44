package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.pagoda.PagodaException;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.sampling.SamplingParams;
import java.io.IOException;
import java.util.List;
import java.util.UUID;

/**
 * The generation endpoints' common path: parse, admit, run through the engine, answer whole or streamed.
 * A streaming client that goes away has its engine requests aborted at the first write that fails.
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

    final void handle(HttpExchange ex, ObjectNode body) throws IOException, InterruptedException {
        serving.checkModel(JsonFields.optString(body, "model"));
        Prepared p = prepare(body);
        String id = idPrefix() + UUID.randomUUID().toString().replace("-", "");
        Generation g = Generation.start(serving.engine(), serving.metrics(), serving.admission(), id, p.prompts(), p.params());
        ResponseShape shape = shape(id, g.choices(), p);
        try {
            if (p.stream()) {
                stream(ex, g, shape, p.includeUsage());
                return;
            }
            while (g.next() != null) {
                // The increments only time the stream (metrics); the whole text comes with the results.
            }
        } catch (InterruptedException e) {
            g.abort();
            throw e;
        }
        HttpIo.json(ex, 200, shape.response(g.results()));
    }

    private void stream(HttpExchange ex, Generation g, ResponseShape shape, boolean includeUsage) throws IOException, InterruptedException {
        SseStream sse;
        try {
            sse = new SseStream(ex);
            for (ObjectNode chunk : shape.opening(g.choices())) {
                sse.send(withUsage(chunk, includeUsage));
            }
            for (Generation.Event e = g.next(); e != null; e = g.next()) {
                if (e.output().error() != null) {
                    sse.send(HttpIo.errorBody(new ApiException(500, "server_error", e.output().error(), null, null, 0)));
                    continue;
                }
                for (ObjectNode chunk : shape.chunks(e.choice(), e.output())) {
                    sse.send(withUsage(chunk, includeUsage));
                }
            }
        } catch (IOException gone) {
            g.abort();
            while (g.next() != null) {
                // Drain to the aborted increments so the results (and metrics) complete.
            }
            g.results();
            return;
        }
        List<RequestResult> results = g.results();
        try {
            if (includeUsage) {
                sse.send(shape.usageChunk(results));
            }
            sse.done();
        } catch (IOException gone) {
            // Every request already finished; nothing left to abort.
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
        } catch (dev.pagoda.InvalidParameterException e) {
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
