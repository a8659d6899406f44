package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.UnmatchedArgumentException;

/** The {@code pagoda} command line. User errors print one line and exit with code 2. */
@Command(name = "pagoda", mixinStandardHelpOptions = true, versionProvider = VersionCommand.class,
        description = "A pure-Java LLM serving engine built around PagedAttention.",
        subcommands = {GenerateCommand.class, ChatCommand.class, ServeCommand.class, InfoCommand.class, SynthCommand.class, BenchCommand.class,
                VersionCommand.class})
public final class PagodaCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (tests call this directly). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The command tree with its defaults, output encoding and error handlers. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new PagodaCli());
        cli.setDefaultValueProvider(new EngineOptions.Defaults());
        // UTF-8 whatever the platform encoding: generated text is Unicode.
        cli.setOut(new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
        cli.setErr(new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true));
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof PagodaException) {
                cmd.getErr().println("pagoda: " + ex.getMessage());
                cmd.getErr().flush();
                return 2;
            }
            throw ex;
        });
        cli.setParameterExceptionHandler((ex, a) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("pagoda: " + ex.getMessage());
            if (ex instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
                String typed = u.getUnmatched().getFirst();
                DidYouMean.closest(typed, typed.startsWith("-") ? cmd.getCommandSpec().optionsMap().keySet()
                        : cmd.getSubcommands().keySet()).ifPresent(name -> cmd.getErr().println("did you mean '" + name + "'?"));
            }
            cmd.getErr().println("(see: " + cmd.getCommandSpec().qualifiedName(" ") + " --help)");
            cmd.getErr().flush();
            return 2;
        });
        return cli;
    }
}
