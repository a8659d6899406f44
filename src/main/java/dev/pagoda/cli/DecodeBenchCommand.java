package dev.pagoda.cli;

import dev.pagoda.bench.DecodeBench;
import dev.pagoda.model.Model;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "decode", mixinStandardHelpOptions = true,
        description = {"Single-request prefill and decode speed against the memory-bandwidth roofline and the FMA peak.",
                "Decode of one sequence streams every weight once per token, so tok/s can be at most",
                "bandwidth / weight bytes per token; prefill and batched decode can at most reach the FMA peak."})
final class DecodeBenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOption model;

    @Option(names = "--prompt-tokens", defaultValue = "128", description = "Prompt length (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--tokens", defaultValue = "128", description = "Tokens to decode (default: ${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--repeat", defaultValue = "3", description = "Runs; the best is reported (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--batch", defaultValue = "0",
            description = "Also measure aggregate decode of this many sequences together (default: ${DEFAULT-VALUE}, off).")
    int batch;

    @Option(names = "--output", defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = model.open()) {
            DecodeBench.Result r = DecodeBench.run(m, promptTokens, tokens, repeat, batch);
            out.println("json".equals(output) ? r.toJson() : r.toTable());
        }
        out.flush();
        return 0;
    }
}
