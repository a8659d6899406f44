package dev.pagoda.server;

import dev.pagoda.TestData;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code ./pagoda serve} process of the soak ({@link ServerSoak}), with what the soak reads from outside it: its
 * RSS, CPU time per thread group (/proc), GC pauses (a {@code -Xlog:gc} file) and access lines (its log), each
 * from a mark on, so that a phase reads only its own.
 */
final class SoakServer implements AutoCloseable {
    /** One access line's timings (seconds; NaN when the line has none). */
    record Access(double queue, double ttft, double duration) {
    }

    private static final Pattern LISTENING = Pattern.compile("on (http://127\\.0\\.0\\.1:\\d+)/v1");
    private static final Pattern ACCESS = Pattern.compile("\\[access] request_id=(\\S+) .* queue_s=(\\S+) ttft_s=(\\S+) duration_s=(\\S+) ");
    private static final Pattern PAUSE = Pattern.compile("Pause.* ([0-9.]+)ms$");

    final String label;
    final String base;
    final int port;
    private final Process process;
    private final Path log;
    private final Path gcLog;

    /**
     * Starts the server on stories260K with a KV cache small enough to force preemption: 48 blocks of 16 slots
     * (1280 bytes a slot), where 64 streams of ~22 tokens, some with n=2, need ~150.
     *
     * @param javaOpts extra JVM options (PAGODA_JAVA_OPTS, after the launcher's)
     * @param serveArgs extra {@code pagoda serve} options
     * @param checkout the checkout whose launcher runs the server (another commit's, to compare with)
     */
    SoakServer(String label, String javaOpts, List<String> serveArgs, Path checkout) throws IOException, InterruptedException {
        this.label = label;
        this.log = Files.createTempFile("pagoda-soak-" + label, ".log");
        this.gcLog = Files.createTempFile("pagoda-soak-" + label, ".gc.log");
        List<String> cmd = new ArrayList<>(List.of(checkout.resolve("pagoda").toString(), "serve", "--model", TestData.path("models/stories260K/stories260K.bin").toString(),
                "--port", "0", "--max-model-len", "512", "--kv-cache-memory", Long.toString(48L * 16 * 1280)));
        cmd.addAll(serveArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(checkout.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PAGODA_JAVA_OPTS", ("-Xlog:gc:file=" + gcLog + " " + javaOpts).trim());
        this.process = pb.start();
        String url = null;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (url == null && process.isAlive() && System.nanoTime() < deadline) {
            Matcher m = LISTENING.matcher(Files.readString(log));
            if (m.find()) {
                url = m.group(1);
            } else {
                Thread.sleep(100);
            }
        }
        if (url == null) {
            process.destroy();
            throw new IllegalStateException("the server " + label + " did not start: " + Files.readString(log));
        }
        this.base = url;
        this.port = Integer.parseInt(url.substring(url.lastIndexOf(':') + 1));
    }

    long pid() {
        return process.pid();
    }

    long rssMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /**
     * CPU seconds so far per thread group: thread names without their numbers, so that the engine thread, the compute
     * workers, the virtual threads' carriers (ForkJoinPool, where HTTP, JSON and SSE run) and the collector's threads
     * read apart.
     */
    Map<String, Double> threadCpu() {
        Map<String, Double> out = new TreeMap<>();
        Path tasks = Path.of("/proc/" + process.pid() + "/task");
        try (var dirs = Files.list(tasks)) {
            for (Path t : dirs.toList()) {
                try {
                    String name = Files.readString(t.resolve("comm")).trim().replaceAll("[#\\-]?\\d+$", "");
                    String stat = Files.readString(t.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    // Fields 14 and 15 of stat (utime, stime), counted after the command's closing parenthesis.
                    double seconds = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
                    out.merge(name, seconds, Double::sum);
                } catch (IOException | RuntimeException gone) {
                    // The thread ended meanwhile.
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** A mark in the server's logs: what was written so far. */
    long[] mark() throws IOException {
        return new long[] {Files.size(log), Files.size(gcLog)};
    }

    /** GC pauses since {@code mark}: {count, total ms, max ms}. */
    double[] gcPauses(long[] mark) throws IOException {
        double[] out = new double[3];
        for (String line : since(gcLog, mark[1])) {
            Matcher m = PAUSE.matcher(line);
            if (m.find()) {
                double ms = Double.parseDouble(m.group(1));
                out[0]++;
                out[1] += ms;
                out[2] = Math.max(out[2], ms);
            }
        }
        return out;
    }

    /** Access lines since {@code mark} that carry timings, by request id. */
    Map<String, Access> accesses(long[] mark) throws IOException {
        Map<String, Access> out = new HashMap<>();
        for (String line : since(log, mark[0])) {
            Matcher m = ACCESS.matcher(line);
            if (m.find()) {
                out.put(m.group(1), new Access(seconds(m.group(2)), seconds(m.group(3)), seconds(m.group(4))));
            }
        }
        return out;
    }

    private static double seconds(String s) {
        return s.equals("-") ? Double.NaN : Double.parseDouble(s);
    }

    private static List<String> since(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long length = f.length();
            byte[] b = new byte[(int) Math.max(0, length - offset)];
            f.seek(Math.min(offset, length));
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8).lines().toList();
        }
    }

    /** The server's own lines (not the access lines), for the report. */
    String serverLines() throws IOException {
        return Files.readString(log).lines().filter(l -> !l.contains("[access]") && !l.startsWith("["))
                .limit(40).reduce("", (a, b) -> a + "  " + b + "\n");
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(60, TimeUnit.SECONDS);
    }
}
