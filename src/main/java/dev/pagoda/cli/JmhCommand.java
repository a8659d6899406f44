package dev.pagoda.cli;

import dev.pagoda.kernel.BandwidthProbe;
import dev.pagoda.kernel.ComputeProbe;
import dev.pagoda.kernel.WorkerPool;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.openjdk.jmh.Main;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "jmh", mixinStandardHelpOptions = true,
        description = {"Runs the JMH kernel benchmarks (dev.pagoda.bench.jmh).",
                "Arguments go to JMH after --, e.g.: pagoda bench jmh -- MatMul -f 1 -wi 2 -i 3 -p type=Q8_0",
                "Prints the FMA peak and read bandwidth first: the limits for the flops and weightBytes rates."})
final class JmhCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

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
        // the limits to read the flops and weightBytes rates against (the benchmarks run in forked JVMs, after this)
        spec.commandLine().getOut().printf("machine limits, probed now: FMA peak %.1f GFLOP/s, read bandwidth %.1f GB/s (%d threads)%n",
                ComputeProbe.measureGflops(), BandwidthProbe.measureGBps(), WorkerPool.shared().threads());
        spec.commandLine().getOut().flush();
        Main.main(a.toArray(String[]::new));
        return 0;
    }
}
