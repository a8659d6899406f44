package dev.pagoda.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.engine.CompletionOutput;
import dev.pagoda.engine.RequestOutput;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.engine.StopReason;
import java.util.List;

/**
 * The JSON of one response, streamed or whole: {@link CompletionShape} for /v1/completions, {@link ChatShape}
 * for /v1/chat/completions. One per HTTP request (streamed logprob offsets are per choice).
 */
abstract class ResponseShape {
    final String id;
    final long created;
    final String model;
    final String fingerprint;
    final LogprobsJson logprobs;

    /** @param fingerprint the server's {@code system_fingerprint} (see {@link Serving#systemFingerprint}) */
    ResponseShape(String id, String model, String fingerprint, LogprobsJson logprobs) {
        this.id = id;
        this.created = System.currentTimeMillis() / 1000;
        this.model = model;
        this.fingerprint = fingerprint;
        this.logprobs = logprobs;
    }

    /** The object name of streamed chunks. */
    abstract String chunkObject();

    /** Chunks sent before any token (chat: the assistant role of every choice). */
    abstract List<ObjectNode> opening(int choices);

    /** The chunk of one increment of one choice. */
    abstract ObjectNode chunk(int choice, RequestOutput o);

    /** The chunks to send for one increment (chat with tool calls holds text back, then sends the calls). */
    List<ObjectNode> chunks(int choice, RequestOutput o) {
        return List.of(chunk(choice, o));
    }

    /** The object name of a whole response. */
    abstract String responseObject();

    /** Fills one choice of a whole response (its index is set). */
    abstract void choice(ObjectNode c, RequestResult result, CompletionOutput out);

    /** The whole response: choice {@code i} is completion {@code i % n} of prompt {@code i / n}. */
    ObjectNode response(List<RequestResult> results) {
        ObjectNode r = header(responseObject());
        ArrayNode choices = r.putArray("choices");
        int index = 0;
        for (RequestResult res : results) {
            for (CompletionOutput out : res.outputs()) {
                ObjectNode c = choices.addObject();
                c.put("index", index++);
                choice(c, res, out);
            }
        }
        r.set("usage", usage(results));
        return r;
    }

    ObjectNode header(String object) {
        ObjectNode o = JsonFields.JSON.createObjectNode();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", model);
        o.put("system_fingerprint", fingerprint);
        return o;
    }

    /** A choice's finish_reason and vLLM's stop_reason (the stop string or stop token id that matched, else null). */
    static void finishReason(ObjectNode c, String finishReason, StopReason stop) {
        if (finishReason == null) {
            c.putNull("finish_reason");
        } else {
            c.put("finish_reason", finishReason);
        }
        if (stop == null) {
            c.putNull("stop_reason");
        } else if (stop.string() != null) {
            c.put("stop_reason", stop.string());
        } else {
            c.put("stop_reason", stop.tokenId());
        }
    }

    /** {@code cachedTokens}: prompt tokens served by the prefix cache ({@code prompt_tokens_details.cached_tokens}). */
    static ObjectNode usage(int promptTokens, int completionTokens, int cachedTokens) {
        ObjectNode u = JsonFields.JSON.createObjectNode();
        u.put("prompt_tokens", promptTokens);
        u.put("completion_tokens", completionTokens);
        u.put("total_tokens", promptTokens + completionTokens);
        u.putObject("prompt_tokens_details").put("cached_tokens", cachedTokens);
        return u;
    }

    static ObjectNode usage(List<RequestResult> results) {
        int prompt = 0;
        int completion = 0;
        int cached = 0;
        for (RequestResult r : results) {
            prompt += r.promptTokenIds().length;
            cached += r.metrics().cachedPromptTokens();
            for (var c : r.outputs()) {
                completion += c.tokenIds().length;
            }
        }
        return usage(prompt, completion, cached);
    }

    /** The last streamed chunk when {@code stream_options.include_usage} is set: no choices, the usage. */
    ObjectNode usageChunk(List<RequestResult> results) {
        ObjectNode o = header(chunkObject());
        o.putArray("choices");
        o.set("usage", usage(results));
        return o;
    }
}
