package dev.pagoda.cli;

import dev.pagoda.engine.LLM;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.server.ChatTemplate;
import java.io.BufferedReader;
import java.io.Console;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;
import sun.misc.SignalHandler;

@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chats with the model in the terminal: each line is a message, the conversation goes through the model's chat "
                + "template (or --chat-template) and the answer streams as it is generated.",
                ChatSession.HELP + " without leaving; Ctrl-D also leaves. Lines piped to stdin are answered in turn."})
final class ChatCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelArgument model;

    @Mixin
    EngineOptions engine;

    @Mixin
    ChatTemplateOption chatTemplate;

    @Option(names = "--system", paramLabel = "TEXT", description = "A system message that opens the conversation (kept by /reset).")
    String system;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "1024",
            description = "Tokens per answer at most; the context length also ends it (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.7", description = "0 is greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Nucleus sampling mass in (0, 1] (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--seed", paramLabel = "S", description = "Seed of the sampler (default: random).")
    Long seed;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SamplingParams params = SamplingParams.builder().maxTokens(maxTokens).temperature(temperature).topP(topP).seed(seed).build();
        try (LLM llm = LLM.of(chatTemplate.applyTo(model.open()), engine.toConfig())) {
            boolean own = llm.model().chatTemplate() != null && !llm.model().chatTemplate().isBlank();
            ChatSession session = new ChatSession(llm, ChatTemplate.of(llm.model()), params, system);
            Console console = System.console();
            boolean interactive = console != null && console.isTerminal();
            Signal interrupt = new Signal("INT");
            SignalHandler previous = Signal.handle(interrupt, s -> {
                if (!session.stopAnswer() && interactive) {
                    out.print("\n(/exit or Ctrl-D leaves)\n>>> ");
                    out.flush();
                }
            });
            // On a terminal the banner goes where the prompts go, so that it comes before them.
            PrintWriter banner = interactive ? out : err;
            banner.printf("pagoda chat: %s, %s; %s%n", llm.model().name(),
                    own ? "its chat template" : "no chat template: 'role: content' lines", ChatSession.HELP);
            banner.flush();
            try {
                session.run(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), out, err, interactive);
            } finally {
                Signal.handle(interrupt, previous);
            }
        }
        return 0;
    }
}
