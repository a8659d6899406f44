package dev.pagoda.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.PagodaException;
import dev.pagoda.engine.GenerationResult;
import dev.pagoda.engine.Generator;
import dev.pagoda.model.Model;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.sampling.TokenLogprobs;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generates text for one or more prompts.",
                "Text mode streams each prompt and its continuation to stdout; a summary goes to stderr.",
                "Put prompts after -- when one is empty or starts with a dash."})
final class GenerateCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption model;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "256", description = "Tokens to generate at most (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", description = "0 is greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Nucleus sampling mass in (0, 1] (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "-1", description = "Keep the K most likely tokens; -1 is off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the sampler (default: random).")
    Long seed;

    @Option(names = "--logprobs", paramLabel = "K", defaultValue = "0", description = "Report the top K log-probabilities of every generated token (json output).")
    int logprobs;

    @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Option(names = "--max-num-batched-tokens", paramLabel = "N", defaultValue = "256", description = "Prompt tokens per forward step (default: ${DEFAULT-VALUE}).")
    int maxBatchedTokens;

    @Parameters(paramLabel = "PROMPT", arity = "1..*", description = "One or more prompts.")
    List<String> prompts;

    @Override
    public Integer call() {
        boolean json = switch (output) {
            case "text" -> false;
            case "json" -> true;
            default -> throw new PagodaException("--output must be text or json, got '" + output + "'");
        };
        if (maxBatchedTokens < 1) {
            throw new PagodaException("--max-num-batched-tokens must be at least 1, got " + maxBatchedTokens);
        }
        SamplingParams params = new SamplingParams(maxTokens, temperature, topP, topK, seed, logprobs, false);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Model m = model.open()) {
            Generator gen = new Generator(m, maxBatchedTokens);
            for (String prompt : prompts) {
                int[] tokens = m.tokenizer().encode(prompt, true, false);
                GenerationResult r;
                if (json) {
                    r = gen.generate(tokens, params, null, null);
                    out.println(toJson(r));
                    out.flush();
                } else {
                    Generator.TextListener print = d -> {
                        out.print(d);
                        out.flush();
                    };
                    r = gen.generate(tokens, params, print, print);
                    out.println();
                    out.flush();
                }
                err.printf("[%s] prompt tokens: %d, generated tokens: %d (%s), prefill: %.1f tok/s, decode: %.1f tok/s%n",
                        m.name(), r.promptTokenIds().length, r.tokenIds().length, r.finishReason().openAiName(),
                        r.prefillTokensPerSecond(), r.decodeTokensPerSecond());
                err.flush();
            }
        }
        return 0;
    }

    private static String toJson(GenerationResult r) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode p = o.putArray("prompt_token_ids");
        for (int t : r.promptTokenIds()) {
            p.add(t);
        }
        ArrayNode g = o.putArray("token_ids");
        for (int t : r.tokenIds()) {
            g.add(t);
        }
        o.put("text", r.text());
        o.put("finish_reason", r.finishReason().openAiName());
        if (r.logprobs() != null) {
            ArrayNode lp = o.putArray("logprobs");
            for (TokenLogprobs t : r.logprobs()) {
                ObjectNode e = lp.addObject();
                e.put("id", t.token());
                e.put("logprob", t.logprob());
                ArrayNode top = e.putArray("top");
                for (int i = 0; i < t.topIds().length; i++) {
                    top.addObject().put("id", t.topIds()[i]).put("logprob", t.topLogprobs()[i]);
                }
            }
        }
        try {
            return JSON.writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
