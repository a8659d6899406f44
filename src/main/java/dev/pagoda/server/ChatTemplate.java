package dev.pagoda.server;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.pagoda.model.Model;
import dev.pagoda.tokenizer.Tokenizer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders chat messages into a prompt with the model's own Jinja template (as Hugging Face does: trim_blocks,
 * lstrip_blocks, {@code messages}, {@code add_generation_prompt}, {@code bos_token}, {@code eos_token},
 * {@code raise_exception}). A model without a template gets {@link #PLAIN_DEFAULT}.
 */
public final class ChatTemplate {
    /**
     * The documented default for models without a template: one {@code role: content} line per message, then
     * {@code assistant:} when a reply is wanted. The prompt is then tokenized with the model's BOS rule.
     */
    public static final String PLAIN_DEFAULT = "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n"
            + "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

    private final Jinjava jinjava;
    private final String template;
    private final boolean own;
    private final String bosToken;
    private final String eosToken;

    private ChatTemplate(String template, boolean own, String bosToken, String eosToken) {
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
        jinjava.getGlobalContext().registerFunction(
                new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
        this.template = template;
        this.own = own;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
    }

    public static ChatTemplate of(Model model) {
        Tokenizer t = model.tokenizer();
        String bos = t.bosId() >= 0 ? t.piece(t.bosId()) : "";
        String eos = t.eosId() >= 0 ? t.piece(t.eosId()) : "";
        return model.chatTemplate() == null || model.chatTemplate().isBlank()
                ? new ChatTemplate(PLAIN_DEFAULT, false, bos, eos)
                : new ChatTemplate(model.chatTemplate(), true, bos, eos);
    }

    /** A given template (tests, or a {@code --chat-template} override). */
    public static ChatTemplate of(String template, String bosToken, String eosToken) {
        return new ChatTemplate(template, true, bosToken, eosToken);
    }

    /**
     * Whether the rendered text already carries the model's special tokens (BOS...), so that tokenizing it must
     * not add them again and must parse special-token text. The plain default carries none.
     */
    public boolean rendersSpecialTokens() {
        return own;
    }

    /** Called by templates that reject a conversation; becomes a 400 with the template's message. */
    public static String raiseException(String message) {
        throw new Raised(message);
    }

    private static final class Raised extends RuntimeException {
        Raised(String message) {
            super(message, null, false, false);
        }
    }

    /** @param messages each with at least {@code role} and {@code content} (a string) */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, null);
    }

    /**
     * @param tools the request's tools ({@code [{type: function, function: {name, description, parameters}}]}),
     *              bound as {@code tools} (absent when null, as templates test {@code tools is not none})
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, List<Map<String, Object>> tools) {
        Map<String, Object> bindings = new HashMap<>(Map.of("messages", messages, "add_generation_prompt", addGenerationPrompt,
                "bos_token", bosToken, "eos_token", eosToken));
        if (tools != null) {
            bindings.put("tools", tools);
        }
        RenderResult r = jinjava.renderForResult(template, bindings);
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                String why = e.getMessage();
                for (Throwable t = e.getException(); t != null; t = t.getCause()) {
                    if (t instanceof Raised) {
                        why = t.getMessage();
                    }
                }
                throw ApiException.badRequest("the chat template rejected the messages: " + why, "messages");
            }
        }
        return r.getOutput();
    }
}
