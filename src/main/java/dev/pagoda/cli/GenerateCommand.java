package dev.pagoda.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.PagodaException;
import dev.pagoda.engine.CompletionOutput;
import dev.pagoda.engine.LLM;
import dev.pagoda.engine.RequestHandle;
import dev.pagoda.engine.RequestOutput;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.sampling.BeamSearchParams;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.sampling.TokenLogprobs;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generates text for one or more prompts, all run together through the engine.",
                "Text mode streams each prompt and its continuation to stdout, in prompt order; a summary per prompt goes to stderr.",
                "Put prompts after -- when one is empty or starts with a dash."})
final class GenerateCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption model;

    @Mixin
    EngineOptions engine;

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

    @Option(names = "--logprobs", paramLabel = "K", description = "Report the top K log-probabilities of every generated token (json output).")
    Integer logprobs;

    @Option(names = "--n", paramLabel = "N", defaultValue = "1", description = "Completions per prompt (parallel sampling on shared blocks) (default: ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--best-of", paramLabel = "N", description = "Candidates per prompt; the n most likely are returned (default: n).")
    Integer bestOf;

    @Option(names = "--beam-width", paramLabel = "W", defaultValue = "0", description = "Beam search with W beams sharing their history (0: off).")
    int beamWidth;

    @Option(names = "--length-penalty", defaultValue = "1.0", description = "Beam search: score = cumulative logprob / length^penalty (default: ${DEFAULT-VALUE}).")
    float lengthPenalty;

    @Option(names = "--early-stopping", defaultValue = "false", description = "Beam search: true, false or never (default: ${DEFAULT-VALUE}).")
    String earlyStopping;

    @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Parameters(paramLabel = "PROMPT", arity = "1..*", description = "One or more prompts.")
    List<String> prompts;

    @Override
    public Integer call() {
        boolean json = switch (output) {
            case "text" -> false;
            case "json" -> true;
            default -> throw new PagodaException("--output must be text or json, got '" + output + "'");
        };
        SamplingParams params = SamplingParams.builder().maxTokens(maxTokens).temperature(temperature).topP(topP).topK(topK)
                .seed(seed).logprobs(logprobs).n(n).bestOf(bestOf).build();
        BeamSearchParams beam = beamWidth > 0
                ? new BeamSearchParams(beamWidth, lengthPenalty, BeamSearchParams.EarlyStopping.parse(earlyStopping), maxTokens, false)
                : null;
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (LLM llm = LLM.of(model.open(), engine.toConfig())) {
            List<int[]> tokenized = new ArrayList<>();
            for (String p : prompts) {
                tokenized.add(llm.model().tokenizer().encode(p, true, false));
            }
            List<RequestHandle> handles = new ArrayList<>();
            for (int[] t : tokenized) {
                handles.add(beam != null ? llm.submitBeamSearch(t, beam) : llm.submit(t, params));
            }
            for (int i = 0; i < handles.size(); i++) {
                RequestHandle h = handles.get(i);
                String promptText = llm.model().tokenizer().decode(h.promptTokenIds(), true);
                // The first prompt's tokens are read as they are made: their times show the steady decode rate.
                DecodePace pace = i == 0 ? new DecodePace() : null;
                if (!json && beam == null && params.n() == 1 && params.bestOf() == 1) {
                    out.print(promptText);
                    out.flush();
                    for (RequestOutput o = h.next(); ; o = h.next()) {
                        if (pace != null) {
                            pace.arrived(o.newTokenIds().length);
                        }
                        out.print(o.textDelta());
                        out.flush();
                        if (o.finished()) {
                            break;
                        }
                    }
                    out.println();
                }
                RequestResult r = join(h);
                if (!json && (beam != null || params.n() > 1 || params.bestOf() > 1)) {
                    for (CompletionOutput c : r.outputs()) {
                        out.printf("[%d] %s%s%n", c.index(), promptText, c.text());
                    }
                }
                if (json) {
                    out.println(toJson(r));
                }
                out.flush();
                CompletionOutput c = r.output();
                String steady = pace == null ? "" : pace.steadySummary();
                err.printf("[%s] prompt tokens: %d, generated tokens: %d (%s), first token after %.2f s, decode: %.1f tok/s%s%n",
                        llm.model().name(), r.promptTokenIds().length, c.tokenIds().length, c.finishReason().openAiName(),
                        r.metrics().ttftSeconds(), r.metrics().decodeTokensPerSecond(), steady);
                if (i == handles.size() - 1) {
                    err.println("(the first tokens include warm-up: the JIT compiles the kernels while they run; "
                            + "`pagoda bench decode` measures warm speed)");
                }
                err.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
        return 0;
    }

    private static RequestResult join(RequestHandle h) {
        try {
            return h.result().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
    }

    private static String toJson(RequestResult r) {
        CompletionOutput c = r.output();
        ObjectNode o = JSON.createObjectNode();
        ArrayNode p = o.putArray("prompt_token_ids");
        for (int t : r.promptTokenIds()) {
            p.add(t);
        }
        ArrayNode g = o.putArray("token_ids");
        for (int t : c.tokenIds()) {
            g.add(t);
        }
        o.put("text", c.text());
        o.put("finish_reason", c.finishReason().openAiName());
        if (r.outputs().size() > 1) {
            ArrayNode all = o.putArray("outputs");
            for (CompletionOutput each : r.outputs()) {
                ObjectNode e = all.addObject();
                e.put("index", each.index());
                ArrayNode ids = e.putArray("token_ids");
                for (int t : each.tokenIds()) {
                    ids.add(t);
                }
                e.put("text", each.text());
                e.put("finish_reason", each.finishReason().openAiName());
                e.put("cumulative_logprob", each.cumulativeLogprob());
            }
        }
        if (c.logprobs() != null) {
            ArrayNode lp = o.putArray("logprobs");
            for (TokenLogprobs t : c.logprobs()) {
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
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
