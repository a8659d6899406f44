package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pagoda.sampling.SamplingParams;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The sampling fields of a completions or chat request, under their OpenAI/vLLM names, onto a
 * {@link SamplingParams.Builder}. Types are checked here (400 naming the field); ranges by the builder.
 */
final class SamplingRequest {
    private SamplingRequest() {
    }

    /**
     * @param chat chat requests take {@code logprobs} as a boolean with {@code top_logprobs}, and
     *             {@code max_completion_tokens} as another name of {@code max_tokens}
     * @return the builder, and whether max_tokens was given (chat defaults it to the rest of the context)
     */
    static Parsed parse(JsonNode body, boolean chat) {
        SamplingParams.Builder b = SamplingParams.builder();
        set(JsonFields.optInt(body, "n"), b::n);
        set(JsonFields.optInt(body, "best_of"), b::bestOf);
        set(JsonFields.optFloat(body, "temperature"), b::temperature);
        set(JsonFields.optFloat(body, "top_p"), b::topP);
        set(JsonFields.optInt(body, "top_k"), b::topK);
        set(JsonFields.optFloat(body, "min_p"), b::minP);
        set(JsonFields.optFloat(body, "presence_penalty"), b::presencePenalty);
        set(JsonFields.optFloat(body, "frequency_penalty"), b::frequencyPenalty);
        set(JsonFields.optFloat(body, "repetition_penalty"), b::repetitionPenalty);
        set(JsonFields.optLong(body, "seed"), b::seed);
        set(JsonFields.optStrings(body, "stop"), b::stop);
        set(JsonFields.optInts(body, "stop_token_ids"), b::stopTokenIds);
        set(JsonFields.optBool(body, "include_stop_str_in_output"), b::includeStopStrInOutput);
        set(JsonFields.optBool(body, "ignore_eos"), b::ignoreEos);
        set(JsonFields.optInt(body, "min_tokens"), b::minTokens);
        set(JsonFields.optInt(body, "prompt_logprobs"), b::promptLogprobs);
        set(JsonFields.optBool(body, "skip_special_tokens"), b::skipSpecialTokens);
        set(logitBias(body), b::logitBias);
        b.constraint(GuidedRequest.parse(body));
        Integer maxTokens = JsonFields.optInt(body, "max_tokens");
        if (chat) {
            Integer mct = JsonFields.optInt(body, "max_completion_tokens");
            if (mct != null) {
                maxTokens = mct;
            }
            Boolean lp = JsonFields.optBool(body, "logprobs");
            Integer top = JsonFields.optInt(body, "top_logprobs");
            if (top != null && !Boolean.TRUE.equals(lp)) {
                throw ApiException.badRequest("top_logprobs needs logprobs set to true", "top_logprobs");
            }
            if (Boolean.TRUE.equals(lp)) {
                b.logprobs(top == null ? 0 : top);
            }
        } else {
            set(JsonFields.optInt(body, "logprobs"), b::logprobs);
        }
        set(maxTokens, b::maxTokens);
        return new Parsed(b, maxTokens != null);
    }

    record Parsed(SamplingParams.Builder builder, boolean maxTokensGiven) {
    }

    private static <T> void set(T value, Consumer<T> setter) {
        if (value != null) {
            setter.accept(value);
        }
    }

    /** {@code {"token id as a string": bias}}, as OpenAI sends it. */
    private static Map<Integer, Float> logitBias(JsonNode body) {
        JsonNode v = body.get("logit_bias");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw ApiException.badRequest("logit_bias must be an object mapping token ids to numbers", "logit_bias");
        }
        Map<Integer, Float> out = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException x) {
                throw ApiException.badRequest("logit_bias keys must be token ids, got '" + e.getKey() + "'", "logit_bias");
            }
            if (!e.getValue().isNumber()) {
                throw ApiException.badRequest("logit_bias values must be numbers, got " + e.getValue(), "logit_bias");
            }
            out.put(id, e.getValue().floatValue());
        }
        return out;
    }
}
