package dev.pagoda.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.engine.CompletionOutput;
import dev.pagoda.engine.RequestOutput;
import dev.pagoda.engine.RequestResult;
import java.util.ArrayList;
import java.util.List;

/** /v1/chat/completions: a {@code chat.completion}, or {@code chat.completion.chunk}s with a delta per choice. */
final class ChatShape extends ResponseShape {

    ChatShape(String id, String model, LogprobsJson logprobs) {
        super(id, model, logprobs);
    }

    @Override
    String chunkObject() {
        return "chat.completion.chunk";
    }

    @Override
    List<ObjectNode> opening(int choices) {
        List<ObjectNode> out = new ArrayList<>(choices);
        for (int i = 0; i < choices; i++) {
            ObjectNode chunk = header(chunkObject());
            ObjectNode c = chunk.putArray("choices").addObject();
            c.put("index", i);
            c.putObject("delta").put("role", "assistant").put("content", "");
            c.putNull("logprobs");
            c.putNull("finish_reason");
            out.add(chunk);
        }
        return out;
    }

    @Override
    ObjectNode chunk(int choice, RequestOutput o) {
        ObjectNode chunk = header(chunkObject());
        ObjectNode c = chunk.putArray("choices").addObject();
        c.put("index", choice);
        ObjectNode delta = c.putObject("delta");
        if (!o.textDelta().isEmpty() || o.finishReason() == null) {
            delta.put("content", o.textDelta());
        }
        if (o.logprobs() != null && !o.logprobs().isEmpty()) {
            logprobs.chat(c.putObject("logprobs"), o.logprobs());
        } else {
            c.putNull("logprobs");
        }
        CompletionShape.finishReason(c, o);
        return chunk;
    }

    @Override
    String responseObject() {
        return "chat.completion";
    }

    @Override
    void choice(ObjectNode c, RequestResult result, CompletionOutput out) {
        ObjectNode m = c.putObject("message");
        m.put("role", "assistant");
        m.put("content", out.text());
        m.putNull("refusal");
        if (out.logprobs() != null) {
            logprobs.chat(c.putObject("logprobs"), out.logprobs());
        } else {
            c.putNull("logprobs");
        }
        c.put("finish_reason", out.finishReason().openAiName());
    }

    @Override
    ObjectNode response(List<RequestResult> results) {
        ObjectNode r = super.response(results);
        if (results.getFirst().promptLogprobs() != null) {
            logprobs.prompt(r.putArray("prompt_logprobs"), results.getFirst().promptLogprobs());
        }
        return r;
    }
}
