package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import jinjava.javax.el.CompositeELResolver;
import dev.pagoda.model.Model;
import dev.pagoda.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders chat messages into a prompt with the model's own Jinja template, as Hugging Face's apply_chat_template does:
 * trim_blocks, lstrip_blocks, loop controls ({@code break}, {@code continue}), {@code namespace}, {@code messages},
 * {@code tools} (none when the request has none), {@code add_generation_prompt}, {@code bos_token} and
 * {@code eos_token} (from tokenizer_config.json when the model has one), {@code raise_exception},
 * {@code strftime_now}, and {@code tojson} formatted as Python's json.dumps. A model without a template gets
 * {@link #PLAIN_DEFAULT}.
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

    /** The binding {@link #strftimeNow} reads the render's clock from. */
    private static final String NOW = "__pagoda_now";

    private final Clock clock;

    private ChatTemplate(String template, boolean own, String bosToken, String eosToken, Clock clock) {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStrings());
        resolver.add(JinjavaConfig.newBuilder().build().getElResolver());
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).withElResolver(resolver).build());
        jinjava.getGlobalContext().registerFunction(
                new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(
                new ELFunctionDefinition("", "strftime_now", ChatTemplate.class, "strftimeNow", String.class));
        jinjava.getGlobalContext().registerFilter(new ToJson());
        this.clock = clock;
        this.template = pythonSyntax(expressionWhitespaceControl(template));
        this.own = own;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
    }

    public static ChatTemplate of(Model model) {
        Tokenizer t = model.tokenizer();
        String bos = tokenizerConfigToken(model, "bos_token", t.bosId() >= 0 ? t.piece(t.bosId()) : "");
        String eos = tokenizerConfigToken(model, "eos_token", t.eosId() >= 0 ? t.piece(t.eosId()) : "");
        return model.chatTemplate() == null || model.chatTemplate().isBlank()
                ? new ChatTemplate(PLAIN_DEFAULT, false, bos, eos, Clock.systemDefaultZone())
                : new ChatTemplate(model.chatTemplate(), true, bos, eos, Clock.systemDefaultZone());
    }

    /** A given template (tests, or a {@code --chat-template} override). */
    public static ChatTemplate of(String template, String bosToken, String eosToken) {
        return of(template, bosToken, eosToken, Clock.systemDefaultZone());
    }

    /** As above, with the clock {@code strftime_now} reads. */
    public static ChatTemplate of(String template, String bosToken, String eosToken, Clock clock) {
        return new ChatTemplate(template, true, bosToken, eosToken, clock);
    }

    /**
     * The string tokenizer_config.json gives for {@code key} (a string, or an added-token object's "content"), which
     * is what Hugging Face templates see; {@code fallback} (the tokenizer's own piece) when there is none.
     */
    private static String tokenizerConfigToken(Model model, String key, String fallback) {
        Path config = model.source().resolve("tokenizer_config.json");
        if (!Files.isRegularFile(config)) {
            return fallback;
        }
        try {
            JsonNode v = new ObjectMapper().readTree(config.toFile()).path(key);
            return v.isTextual() ? v.asText() : v.path("content").isTextual() ? v.path("content").asText() : fallback;
        } catch (IOException e) {
            return fallback;
        }
    }

    /**
     * Whether the rendered text already carries the model's special tokens (BOS...), so that tokenizing it must
     * not add them again and must parse special-token text. The plain default carries none.
     */
    public boolean rendersSpecialTokens() {
        return own;
    }

    private static final Pattern STRIP_BEFORE = Pattern.compile("\\s*\\{([{#])-");
    private static final Pattern STRIP_AFTER = Pattern.compile("-([}#])}\\s*");

    /**
     * Jinja's whitespace control on expressions and comments ({@code {{- x -}}}, {@code {#- ... -#}}), which Jinjava
     * lacks (it has it on block tags): Jinja strips the template text's whitespace next to the marker, so removing
     * that whitespace from the source, and the marker, renders the same.
     */
    static String expressionWhitespaceControl(String template) {
        String s = STRIP_BEFORE.matcher(template).replaceAll("{$1");
        return STRIP_AFTER.matcher(s).replaceAll("$1}");
    }

    private static final Pattern TAG = Pattern.compile("\\{[{%].*?[%}]\\}", Pattern.DOTALL);
    private static final Pattern REVERSED = Pattern.compile("\\[\\s*:\\s*:\\s*-1\\s*\\]");
    /** A keyword argument whose value is an expression with an operator, up to the next ',' or ')'. */
    private static final Pattern KEYWORD_EXPRESSION = Pattern.compile("([(,]\\s*\\w+\\s*=)(?!=)\\s*([^,()=]*?\\s[-+*/%~]\\s[^,()=]*?)(?=\\s*[,)])");

    /**
     * Python syntax in tags that Jinjava parses otherwise: the reversing slice {@code xs[::-1]} (Qwen3 walks its
     * messages backwards with it) becomes the {@code reverse} filter, the same sequence where a loop or a filter
     * reads it; a keyword argument's value with an operator ({@code namespace(last=messages|length - 1)}) gets
     * parentheses, since Jinjava would bind the operator looser than the {@code =}.
     */
    static String pythonSyntax(String template) {
        return TAG.matcher(template).replaceAll(m -> Matcher.quoteReplacement(
                KEYWORD_EXPRESSION.matcher(REVERSED.matcher(m.group()).replaceAll("|reverse")).replaceAll("$1($2)")));
    }

    /** Called by templates that reject a conversation; becomes a 400 with the template's message. */
    public static String raiseException(String message) {
        throw new Raised(message);
    }

    /** Python's strftime of the render's current time (Hugging Face templates date their system prompts with it). */
    public static String strftimeNow(String format) {
        Object now = JinjavaInterpreter.getCurrent().getContext().get(NOW);
        return Strftime.format(now instanceof LocalDateTime t ? t : LocalDateTime.now(), format);
    }

    /** {@code tojson} as Hugging Face defines it: json.dumps(x, ensure_ascii=False, indent=indent). */
    private static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.getOrDefault("indent", args.length > 0 ? args[0] : null);
            return PythonJson.dumps(var, indent instanceof Number n ? n.intValue() : -1);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PythonJson.dumps(var, args.length > 0 ? Integer.parseInt(args[0]) : -1);
        }
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

    /** @param tools the request's tools ({@code [{type: "function", function: {...}}]}), or null for none */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, List<?> tools) {
        return render(messages, addGenerationPrompt, tools, Map.of());
    }

    /**
     * @param extra more template variables (a request's {@code chat_template_kwargs}, e.g. Qwen3's
     *              {@code enable_thinking}); the ones above take precedence
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, List<?> tools, Map<String, Object> extra) {
        Map<String, Object> bindings = new HashMap<>(extra);
        bindings.put("messages", messages);
        bindings.put("tools", tools);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        bindings.put("bos_token", bosToken);
        bindings.put("eos_token", eosToken);
        bindings.put(NOW, LocalDateTime.now(clock));
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
