package dev.pagoda.server;

import dev.pagoda.engine.LLMEngine;
import dev.pagoda.model.Model;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.tokenizer.Tokenizer;

/**
 * What every endpoint needs: the engine and its model, the server's settings, metrics and admission.
 *
 * @param systemFingerprint OpenAI's {@code system_fingerprint}: names what determines the outputs (see
 *                          {@link OpenAiServer}), so a client sees when a change may alter seeded results
 */
record Serving(LLMEngine engine, Model model, ServerConfig config, ServerMetrics metrics, Admission admission,
               ChatTemplate chatTemplate, PromptBound promptBound, String systemFingerprint) {

    /** The parser for tool_choice auto ({@code --tool-call-parser}), or null when none is set. */
    ToolCallParser toolCallParser() {
        return config.toolCallParser() == null ? null : ToolCallParser.named(config.toolCallParser());
    }

    Tokenizer tokenizer() {
        return model.tokenizer();
    }

    /** 404 unless the request names the served model (or none). */
    void checkModel(String requested) {
        if (requested != null && !requested.equals(config.servedModelName())) {
            throw ApiException.notFound("The model '" + requested + "' does not exist; this server serves '"
                    + config.servedModelName() + "'", "model", "model_not_found");
        }
    }

    /** Tokenizes prompt text, refusing (400 naming {@code param}) text too long to fit before tokenizing it. */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial, String param) {
        return promptBound.encode(text, addSpecial, parseSpecial, param);
    }

    /** 400 naming stop_token_ids when one is outside the vocabulary. */
    void checkStopTokens(SamplingParams params) {
        int vocab = tokenizer().vocabSize();
        for (int id : params.stopTokenIds()) {
            if (id < 0 || id >= vocab) {
                throw ApiException.badRequest("stop_token_ids: token id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")",
                        "stop_token_ids");
            }
        }
    }

    /** 400 when prompt + max_tokens cannot fit the max model length (vLLM's check, before queueing). */
    void checkLength(int promptTokens, int maxTokens) {
        int limit = engine.maxModelLen();
        if (promptTokens >= limit) {
            throw ApiException.promptTooLong("This model's maximum context length is " + limit + " tokens. However, your prompt has "
                    + promptTokens + " tokens (at least one token must be left to generate).", "prompt");
        }
        if ((long) promptTokens + maxTokens > limit) {
            throw ApiException.badRequest("This model's maximum context length is " + limit + " tokens. However, you requested "
                    + ((long) promptTokens + maxTokens) + " tokens (" + promptTokens + " in the prompt, " + maxTokens
                    + " for the completion). Please reduce the prompt or max_tokens.", "max_tokens");
        }
    }
}
