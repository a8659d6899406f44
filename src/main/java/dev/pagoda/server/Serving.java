package dev.pagoda.server;

import dev.pagoda.engine.LLMEngine;
import dev.pagoda.model.Model;
import dev.pagoda.tokenizer.Tokenizer;

/** What every endpoint needs: the engine and its model, the server's settings, metrics and admission. */
record Serving(LLMEngine engine, Model model, ServerConfig config, ServerMetrics metrics, Admission admission,
               ChatTemplate chatTemplate) {

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

    /** 400 when prompt + max_tokens cannot fit the max model length (vLLM's check, before queueing). */
    void checkLength(int promptTokens, int maxTokens) {
        int limit = engine.maxModelLen();
        if (promptTokens >= limit) {
            throw ApiException.badRequest("This model's maximum context length is " + limit + " tokens. However, your prompt has "
                    + promptTokens + " tokens (at least one token must be left to generate).", "prompt");
        }
        if ((long) promptTokens + maxTokens > limit) {
            throw ApiException.badRequest("This model's maximum context length is " + limit + " tokens. However, you requested "
                    + ((long) promptTokens + maxTokens) + " tokens (" + promptTokens + " in the prompt, " + maxTokens
                    + " for the completion). Please reduce the prompt or max_tokens.", "max_tokens");
        }
    }
}
