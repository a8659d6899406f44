package dev.pagoda.cli;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Issue 11, finding 7: the server's heap is bounded and returns unused memory; the launcher picks it, PAGODA_JAVA_OPTS overrides. */
class ServerHeapTest {

    private static String launcherOptions(String command, String userOptions) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("pagoda").toAbsolutePath().toString(), command);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("PAGODA_PRINT_JAVA_OPTS", "1");
        pb.environment().put("PAGODA_JAVA_OPTS", userOptions);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor()).as(out).isZero();
        return out;
    }

    @Test
    void launcherGivesServeABoundedG1HeapThatUserOptionsOverride() throws Exception {
        String serve = launcherOptions("serve", "-Xmx300m");
        assertThat(serve).contains("-XX:+UseG1GC", "-XX:GCTimeRatio=4").containsPattern("-Xmx\\d+m -Xmx300m$");
        assertThat(launcherOptions("generate", "")).contains("-XX:+UseParallelGC").doesNotContain("G1");
    }

    @Test
    void serverTurnsOnPeriodicCollectionAndReportsTheHeap() {
        // The test JVM runs G1 (the JDK's default, as the launcher picks for serve).
        String line = ServerHeap.configure(1L << 20);
        HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        assertThat(hs.getVMOption("G1PeriodicGCInterval").getValue()).isEqualTo(Long.toString(ServerHeap.PERIODIC_GC_MILLIS));
        assertThat(hs.getVMOption("MaxHeapFreeRatio").getValue()).isEqualTo("30");
        assertThat(line).startsWith("heap: G1").contains("limit 4096 MiB").contains("returned every 10000 ms");
        assertThat(ServerHeap.configure(1L << 40)).contains("WARNING").contains("PAGODA_JAVA_OPTS=-Xmx");
    }
}
