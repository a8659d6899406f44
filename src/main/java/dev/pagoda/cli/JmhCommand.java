package dev.pagoda.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "jmh", mixinStandardHelpOptions = true,
        description = {"Runs the JMH kernel benchmarks (dev.pagoda.bench.jmh).",
                "Arguments go to JMH, e.g.: pagoda bench jmh MatMul -f 1 -wi 2 -i 3 -p type=Q8_0"})
final class JmhCommand implements Callable<Integer> {
    @Parameters(paramLabel = "JMH_ARGS", description = "JMH options and benchmark regex (default: all Pagoda benchmarks).")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<String> a = new ArrayList<>(args);
        if (a.stream().noneMatch(s -> !s.startsWith("-"))) {
            a.add("dev.pagoda.bench.jmh");
        }
        // Forked benchmark JVMs need the same modules as this one.
        a.addAll(List.of("-jvmArgsAppend", "--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED"));
        org.openjdk.jmh.Main.main(a.toArray(String[]::new));
        return 0;
    }
}
