package dev.pagoda.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.engine.CompletionOutput;
import dev.pagoda.engine.FinishReason;
import dev.pagoda.engine.RequestOutput;
import dev.pagoda.engine.RequestResult;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * /v1/chat/completions: a {@code chat.completion}, or {@code chat.completion.chunk}s with a delta per choice.
 * When the reply is read for tool calls, its text is held back while streaming and sent at the end as
 * {@code delta.tool_calls} (a chunk naming each call, then one with its arguments), or as content if it
 * holds no call.
 */
final class ChatShape extends ResponseShape {
    private final ToolRequest tools;
    private final ToolCallParser parser;
    private final StringBuilder[] held;

    /** @param tools the request's tools when its reply is read for calls, else null */
    ChatShape(String id, String model, String fingerprint, LogprobsJson logprobs, ToolRequest tools, ToolCallParser parser,
              int choices) {
        super(id, model, fingerprint, logprobs);
        this.tools = tools;
        this.parser = parser;
        this.held = new StringBuilder[tools == null ? 0 : choices];
    }

    @Override
    List<ObjectNode> chunks(int choice, RequestOutput o) {
        if (tools == null) {
            return super.chunks(choice, o);
        }
        if (held[choice] == null) {
            held[choice] = new StringBuilder();
        }
        held[choice].append(o.textDelta());
        if (o.finishReason() == null) {
            return List.of();
        }
        ToolCalls calls = tools.calls(held[choice].toString(), parser);
        if (calls.calls().isEmpty()) {
            return List.of(chunk(choice, new RequestOutput(o.requestId(), o.index(), o.newTokenIds(), held[choice].toString(),
                    o.logprobs(), o.finishReason(), null, o.stopReason())));
        }
        List<ObjectNode> out = new ArrayList<>();
        if (!calls.content().isEmpty()) {
            out.add(delta(choice, d -> d.put("content", calls.content())));
        }
        for (int k = 0; k < calls.calls().size(); k++) {
            ToolCalls.Call call = calls.calls().get(k);
            int index = k;
            out.add(delta(choice, d -> {
                ObjectNode t = d.putArray("tool_calls").addObject();
                t.put("index", index).put("id", call.id()).put("type", "function");
                t.putObject("function").put("name", call.name()).put("arguments", "");
            }));
            out.add(delta(choice, d -> d.putArray("tool_calls").addObject().put("index", index)
                    .putObject("function").put("arguments", call.arguments())));
        }
        ObjectNode last = delta(choice, d -> { });
        finishReason((ObjectNode) last.get("choices").get(0), finishReason(o.finishReason()), o.stopReason());
        out.add(last);
        return out;
    }

    private ObjectNode delta(int choice, Consumer<ObjectNode> fill) {
        ObjectNode chunk = header(chunkObject());
        ObjectNode c = chunk.putArray("choices").addObject();
        c.put("index", choice);
        fill.accept(c.putObject("delta"));
        c.putNull("logprobs");
        finishReason(c, null, null);
        return chunk;
    }

    /** A reply that made tool calls finishes with tool_calls, unless it was cut short. */
    private static String finishReason(FinishReason reason) {
        return reason == FinishReason.STOP ? "tool_calls" : reason.openAiName();
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
            finishReason(c, null, null);
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
        finishReason(c, o.finishReason() == null ? null : o.finishReason().openAiName(), o.stopReason());
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
        ToolCalls calls = tools == null ? ToolCalls.none(out.text()) : tools.calls(out.text(), parser);
        if (calls.calls().isEmpty() || !calls.content().isEmpty()) {
            m.put("content", calls.content());
        } else {
            m.putNull("content");
        }
        m.putNull("refusal");
        if (!calls.calls().isEmpty()) {
            ArrayNode list = m.putArray("tool_calls");
            for (ToolCalls.Call call : calls.calls()) {
                ObjectNode t = list.addObject().put("id", call.id()).put("type", "function");
                t.putObject("function").put("name", call.name()).put("arguments", call.arguments());
            }
        }
        if (out.logprobs() != null) {
            logprobs.chat(c.putObject("logprobs"), out.logprobs());
        } else {
            c.putNull("logprobs");
        }
        finishReason(c, calls.calls().isEmpty() ? out.finishReason().openAiName() : finishReason(out.finishReason()), out.stopReason());
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
