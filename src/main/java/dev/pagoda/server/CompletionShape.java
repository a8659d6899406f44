package dev.pagoda.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.engine.CompletionOutput;
import dev.pagoda.engine.RequestOutput;
import dev.pagoda.engine.RequestResult;
import java.util.List;

/** /v1/completions: {@code text_completion} objects, streamed as the same object with a text delta per choice. */
final class CompletionShape extends ResponseShape {
    private final int[] textOffsets;

    CompletionShape(String id, String model, String fingerprint, LogprobsJson logprobs, int choices) {
        super(id, model, fingerprint, logprobs);
        this.textOffsets = new int[choices];
    }

    @Override
    String chunkObject() {
        return "text_completion";
    }

    @Override
    List<ObjectNode> opening(int choices) {
        return List.of();
    }

    @Override
    ObjectNode chunk(int choice, RequestOutput o) {
        ObjectNode chunk = header("text_completion");
        ObjectNode c = chunk.putArray("choices").addObject();
        c.put("index", choice);
        c.put("text", o.textDelta());
        if (o.logprobs() != null && !o.logprobs().isEmpty()) {
            textOffsets[choice] = logprobs.completion(c.putObject("logprobs"), o.logprobs(), textOffsets[choice]);
        } else {
            c.putNull("logprobs");
        }
        finishReason(c, o.finishReason() == null ? null : o.finishReason().openAiName(), o.stopReason());
        return chunk;
    }

    @Override
    String responseObject() {
        return "text_completion";
    }

    @Override
    void choice(ObjectNode c, RequestResult result, CompletionOutput out) {
        c.put("text", out.text());
        if (out.logprobs() != null) {
            logprobs.completion(c.putObject("logprobs"), out.logprobs(), 0);
        } else {
            c.putNull("logprobs");
        }
        finishReason(c, out.finishReason().openAiName(), out.stopReason());
        if (result.promptLogprobs() != null) {
            logprobs.prompt(c.putArray("prompt_logprobs"), result.promptLogprobs());
        }
    }
}
