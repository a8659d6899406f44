package dev.pagoda.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.engine.CompletionOutput;
import dev.pagoda.engine.RequestOutput;
import dev.pagoda.engine.RequestResult;
import java.util.List;

/**
 * The JSON of one response, streamed or whole: {@link CompletionShape} for /v1/completions, {@link ChatShape}
 * for /v1/chat/completions. One per HTTP request (streamed logprob offsets are per choice).
 */
abstract class ResponseShape {
    final String id;
    final long created;
    final String model;
    final LogprobsJson logprobs;

    ResponseShape(String id, String model, LogprobsJson logprobs) {
        this.id = id;
        this.created = System.currentTimeMillis() / 1000;
        this.model = model;
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
        return o;
    }

    static ObjectNode usage(int promptTokens, int completionTokens) {
        ObjectNode u = JsonFields.JSON.createObjectNode();
        u.put("prompt_tokens", promptTokens);
        u.put("completion_tokens", completionTokens);
        u.put("total_tokens", promptTokens + completionTokens);
        return u;
    }

    static ObjectNode usage(List<RequestResult> results) {
        int prompt = 0;
        int completion = 0;
        for (RequestResult r : results) {
            prompt += r.promptTokenIds().length;
            for (var c : r.outputs()) {
                completion += c.tokenIds().length;
            }
        }
        return usage(prompt, completion);
    }

    /** The last streamed chunk when {@code stream_options.include_usage} is set: no choices, the usage. */
    ObjectNode usageChunk(List<RequestResult> results) {
        ObjectNode o = header(chunkObject());
        o.putArray("choices");
        o.set("usage", usage(results));
        return o;
    }
}
