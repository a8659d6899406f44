package dev.pagoda.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/** {@code pagoda version} (and {@code pagoda --version}): Pagoda's version and the Java runtime it runs on. */
@Command(name = "version", mixinStandardHelpOptions = true, description = "Prints Pagoda's version and the Java runtime.")
final class VersionCommand implements Callable<Integer>, IVersionProvider {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public String[] getVersion() {
        // The jar's manifest carries the Maven version; classes run from target/classes have none.
        String v = VersionCommand.class.getPackage().getImplementationVersion();
        return new String[] {"pagoda " + (v != null ? v : "(development build)"),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vendor", "?") + "), " + System.getProperty("os.name") + " "
                        + System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " CPUs"};
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        for (String line : getVersion()) {
            out.println(line);
        }
        out.flush();
        return 0;
    }
}
