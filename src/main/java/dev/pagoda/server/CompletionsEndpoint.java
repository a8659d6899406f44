package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;

/**
 * POST /v1/completions. {@code prompt} is a string, an array of strings, an array of token ids, or an array of
 * token-id arrays (OpenAI's four forms); text is tokenized with the model's BOS rule.
 */
final class CompletionsEndpoint extends GenerationEndpoint {

    CompletionsEndpoint(Serving serving) {
        super(serving);
    }

    @Override
    String idPrefix() {
        return "cmpl-";
    }

    @Override
    ResponseShape shape(String id, int choices) {
        return new CompletionShape(id, serving.config().servedModelName(), serving.systemFingerprint(), new LogprobsJson(serving.tokenizer()), choices);
    }

    @Override
    Prepared prepare(ObjectNode body) {
        unsupported(body, "echo", "suffix", "use_beam_search");
        boolean[] flags = streamFlags(body);
        List<int[]> prompts = prompts(body.get("prompt"));
        SamplingParams params = build(SamplingRequest.parse(body, false).builder());
        for (int[] p : prompts) {
            serving.checkLength(p.length, params.maxTokens());
        }
        return new Prepared(prompts, params, flags[0], flags[1]);
    }

    private List<int[]> prompts(JsonNode prompt) {
        if (prompt == null || prompt.isNull()) {
            throw ApiException.badRequest("prompt is required", "prompt");
        }
        List<int[]> out = new ArrayList<>();
        if (prompt.isTextual()) {
            out.add(encode(prompt.textValue()));
        } else if (prompt.isArray() && !prompt.isEmpty()) {
            JsonNode first = prompt.get(0);
            if (first.isTextual()) {
                for (JsonNode p : prompt) {
                    if (!p.isTextual()) {
                        throw wrongPrompt();
                    }
                    out.add(encode(p.textValue()));
                }
            } else if (first.isIntegralNumber()) {
                out.add(JsonFields.ints(prompt, "prompt"));
            } else if (first.isArray()) {
                for (JsonNode p : prompt) {
                    out.add(JsonFields.ints(p, "prompt"));
                }
            } else {
                throw wrongPrompt();
            }
        } else {
            throw wrongPrompt();
        }
        for (int[] p : out) {
            if (p.length == 0) {
                throw ApiException.badRequest("the prompt must not be empty", "prompt");
            }
        }
        return out;
    }

    private int[] encode(String text) {
        return serving.encode(text, true, false, "prompt");
    }

    private static ApiException wrongPrompt() {
        return ApiException.badRequest("prompt must be a string, an array of strings, an array of token ids, "
                + "or an array of token-id arrays", "prompt");
    }
}
