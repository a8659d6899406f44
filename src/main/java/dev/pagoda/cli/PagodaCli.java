package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pagoda} command line. User errors print one line and exit with code 2. */
@Command(name = "pagoda", mixinStandardHelpOptions = true, version = "pagoda 0.1.0",
        description = "A pure-Java LLM serving engine built around PagedAttention.",
        subcommands = {GenerateCommand.class, ServeCommand.class, PullCommand.class, InfoCommand.class, SynthCommand.class, BenchCommand.class})
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
        CommandLine cli = new CommandLine(new PagodaCli());
        // UTF-8 whatever the platform encoding: generated text is Unicode.
        cli.setOut(new java.io.PrintWriter(new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8), true));
        cli.setErr(new java.io.PrintWriter(new java.io.OutputStreamWriter(System.err, java.nio.charset.StandardCharsets.UTF_8), true));
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
            cmd.getErr().println("(see: pagoda " + String.join(" ", cmd.getCommandSpec().qualifiedName(" ").replaceFirst("^pagoda ?", "")) + " --help)");
            cmd.getErr().flush();
            return 2;
        });
        return cli.execute(args);
    }
}
