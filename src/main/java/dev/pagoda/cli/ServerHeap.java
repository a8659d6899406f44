package dev.pagoda.cli;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.List;

/**
 * Heap settings for a long-running server. Everything large (weights, KV cache) lives off the heap; the heap holds
 * the model's scratch arrays and tokenizer (measured after loading) and short-lived request garbage, so a server
 * needs a modest heap that it gives back when idle. With G1 (the launcher's choice for serve) a periodic
 * concurrent cycle every {@link #PERIODIC_GC_MILLIS} and tight free ratios return unused heap to the OS; options a
 * user set (PAGODA_JAVA_OPTS) are left alone. A heap limit below what the model needs is reported at startup.
 */
final class ServerHeap {
    static final long PERIODIC_GC_MILLIS = 10_000;
    /** Room over the live heap after loading: request bodies, JSON trees and per-request state. */
    private static final long REQUEST_ROOM = 256L << 20;

    private ServerHeap() {
    }

    /** Applies the server's G1 settings where the user left the defaults; returns one line describing the heap. */
    static String configure(long maxBodyBytes) {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        memory.gc();
        long live = memory.getHeapMemoryUsage().getUsed();
        // Four bodies at the limit in flight at once, each held as bytes and as the parsed text.
        long need = 2 * live + REQUEST_ROOM + 8 * maxBodyBytes;
        long max = Runtime.getRuntime().maxMemory();
        List<String> collectors = ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName).toList();
        boolean g1 = collectors.stream().anyMatch(n -> n.startsWith("G1"));
        String returns = "";
        if (g1) {
            HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            setIfDefault(hs, "G1PeriodicGCInterval", Long.toString(PERIODIC_GC_MILLIS));
            setIfDefault(hs, "MinHeapFreeRatio", "10");
            setIfDefault(hs, "MaxHeapFreeRatio", "30");
            returns = ", unused heap returned every " + hs.getVMOption("G1PeriodicGCInterval").getValue() + " ms when idle";
        }
        String line = "heap: " + String.join("/", collectors) + ", limit " + mib(max) + " MiB, " + mib(live) + " MiB live after loading"
                + returns;
        if (max < need) {
            line += "; WARNING: the model and --max-body-size want about " + mib(need) + " MiB: raise it with PAGODA_JAVA_OPTS=-Xmx"
                    + mib(need) + "m";
        }
        return line;
    }

    private static void setIfDefault(HotSpotDiagnosticMXBean hs, String name, String value) {
        VMOption o = hs.getVMOption(name);
        if (o.getOrigin() == VMOption.Origin.DEFAULT || o.getOrigin() == VMOption.Origin.ERGONOMIC) {
            hs.setVMOption(name, value);
        }
    }

    private static long mib(long bytes) {
        return bytes >> 20;
    }
}
