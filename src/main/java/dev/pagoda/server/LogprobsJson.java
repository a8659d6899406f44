package dev.pagoda.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.sampling.TokenLogprobs;
import dev.pagoda.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Logprobs in OpenAI's two shapes: the completions one (parallel arrays) and the chat one (content entries). */
final class LogprobsJson {
    private final Tokenizer tokenizer;

    LogprobsJson(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    String tokenText(int id) {
        return new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8);
    }

    /**
     * Completions: {@code {tokens, token_logprobs, top_logprobs, text_offset}}; {@code offset} is where the first
     * token's text starts in the choice's text; returns the offset after the last token.
     */
    int completion(ObjectNode into, List<TokenLogprobs> lps, int offset) {
        ArrayNode tokens = into.putArray("tokens");
        ArrayNode logprobs = into.putArray("token_logprobs");
        ArrayNode tops = into.putArray("top_logprobs");
        ArrayNode offsets = into.putArray("text_offset");
        for (TokenLogprobs t : lps) {
            String text = tokenText(t.token());
            tokens.add(text);
            logprobs.add(finite(t.logprob()));
            ObjectNode top = tops.addObject();
            for (int i = 0; i < t.topIds().length; i++) {
                top.put(tokenText(t.topIds()[i]), finite(t.topLogprobs()[i]));
            }
            top.put(text, finite(t.logprob()));
            offsets.add(offset);
            offset += text.length();
        }
        return offset;
    }

    /** Chat: {@code {content: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}], refusal: null}}. */
    void chat(ObjectNode into, List<TokenLogprobs> lps) {
        ArrayNode content = into.putArray("content");
        for (TokenLogprobs t : lps) {
            ObjectNode e = entry(content.addObject(), t.token(), finite(t.logprob()));
            ArrayNode top = e.putArray("top_logprobs");
            for (int i = 0; i < t.topIds().length; i++) {
                entry(top.addObject(), t.topIds()[i], finite(t.topLogprobs()[i]));
            }
        }
        into.putNull("refusal");
    }

    private ObjectNode entry(ObjectNode e, int id, float logprob) {
        byte[] bytes = tokenizer.tokenBytes(id);
        e.put("token", new String(bytes, StandardCharsets.UTF_8));
        e.put("logprob", finite(logprob));
        ArrayNode b = e.putArray("bytes");
        for (byte x : bytes) {
            b.add(x & 0xff);
        }
        return e;
    }

    /**
     * vLLM's {@code prompt_logprobs}: null for the first prompt token, then per token an object keyed by token id
     * (the prompt's token and the top alternatives) of {@code {logprob, decoded_token}}.
     */
    void prompt(ArrayNode into, List<TokenLogprobs> lps) {
        into.addNull();
        for (TokenLogprobs t : lps) {
            ObjectNode e = into.addObject();
            e.putObject(Integer.toString(t.token())).put("logprob", finite(t.logprob())).put("decoded_token", tokenText(t.token()));
            for (int i = 0; i < t.topIds().length; i++) {
                e.putObject(Integer.toString(t.topIds()[i])).put("logprob", finite(t.topLogprobs()[i]))
                        .put("decoded_token", tokenText(t.topIds()[i]));
            }
        }
    }

    /**
     * A logprob as JSON can carry it: a token guided decoding masked out has -infinity, sent as -9999.0 (as vLLM
     * does; JSON has no infinity).
     */
    static float finite(float logprob) {
        return Math.max(logprob, -9999f);
    }
}
