package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/**
 * The issue 11 soak, not part of the unit suite: starts {@code ./pagoda serve} (the launcher's heap settings) on
 * stories260K with a KV cache small enough to force preemption ({@link SoakServer}), then runs phases:
 * <ol>
 *   <li>{@code small}: 5,000 small requests (8 clients): RSS after 100 and after 5,000;</li>
 *   <li>{@code streams}: for the given seconds, 64 streaming clients (every 8th request hangs up after 3 events, a
 *       quarter with n=2, half seeded);</li>
 *   <li>{@code hostile}: the same clients and at once 4 clients looping 15 MB prompts and 2,000 half-open
 *       connections (a partial header, kept up as the server times them out); RSS sampled throughout.</li>
 * </ol>
 * Each streaming phase reports the p99 latency of the 16-token requests and what it is made of (the server's access
 * lines: queueing until the engine first scheduled the request, first token, the rest of the stream; and what the
 * client saw beyond the server's exchange), lost and duplicated requests, outputs against their solo runs, used KV
 * blocks once idle, RSS before, during and after, CPU seconds per server thread group and of the soak's own clients
 * (which share the machine), and GC pauses.
 *
 * <p>A request's latency is measured from writing its first byte to reading its response's last (the terminating
 * chunk of the stream), on the client's kept-alive connection. The streaming clients and the 15 MB loopers are
 * lean plain-socket HTTP/1.1 clients, one virtual thread each ({@link SoakConnection}), so that the load generator
 * is not what is measured; a 15 MB looper sends its whole body whatever the server answers, as a hostile client does.
 *
 * <p>Several servers ({@code --server LABEL|JAVA_OPTS|SERVE_ARGS|CHECKOUT}, repeated; CHECKOUT: a directory with
 * another commit's built launcher, default this one) run each phase in turn, one after the other, so that
 * configurations and commits are compared side by side under the same load of the machine. Traffic goes to
 * 127.0.0.1 only.
 *
 * <p>Run: {@code mvn -q -o test-compile && java -cp "target/classes:target/test-classes:target/lib/*"
 * dev.pagoda.server.ServerSoak [seconds] [--phases small,streams,hostile] [--server 'LABEL|JAVA_OPTS|SERVE_ARGS|CHECKOUT']...}
 */
public final class ServerSoak {
    private static final String[] PROMPTS = {"Once upon a time", "Lily wanted to", "The little dog", "One day, Tom",
            "There was a big tree", "Sam and Mia went", "The sun was", "A cat named"};
    private static final int MAX_TOKENS = 16;
    /** The issue's setting: a body limit that lets a 15 MB prompt through to the parser. */
    private static final List<String> SERVE_ARGS = List.of("--max-body-size", "16MiB");

    private final SoakServer server;
    private final Map<String, List<String>> solo = new ConcurrentHashMap<>();
    private final AtomicLong requestIds = new AtomicLong();

    private ServerSoak(SoakServer server) {
        this.server = server;
    }

    public static void main(String[] args) throws Exception {
        int seconds = 60;
        List<String> phases = List.of("small", "streams", "hostile");
        List<String[]> specs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--phases" -> phases = List.of(args[++i].split(","));
                case "--server" -> specs.add((args[++i] + "|||").split("\\|", -1));
                default -> seconds = Integer.parseInt(args[i]);
            }
        }
        if (specs.isEmpty()) {
            specs.add(new String[] {"default", "", "", ""});
        }
        List<ServerSoak> soaks = new ArrayList<>();
        try {
            for (String[] spec : specs) {
                List<String> serveArgs = new ArrayList<>(SERVE_ARGS);
                if (!spec[2].isBlank()) {
                    serveArgs.addAll(List.of(spec[2].trim().split("\\s+")));
                }
                Path checkout = Path.of(spec[3].isBlank() ? "." : spec[3].trim()).toAbsolutePath();
                ServerSoak soak = new ServerSoak(new SoakServer(spec[0], spec[1], serveArgs, checkout));
                soaks.add(soak);
                System.out.printf("server %s: %s, pid %d, %s, java options '%s', serve options %s; RSS at start %d MiB%n", spec[0],
                        soak.server.base, soak.server.pid(), checkout, spec[1], serveArgs, soak.server.rssMib());
                soak.soloRuns();
            }
            for (String phase : phases) {
                for (ServerSoak soak : soaks) {
                    switch (phase) {
                        case "small" -> soak.smallRequests();
                        case "streams" -> soak.soak(seconds, false);
                        case "hostile" -> soak.soak(seconds, true);
                        default -> throw new IllegalArgumentException("no phase " + phase + " (small, streams, hostile)");
                    }
                }
            }
        } finally {
            for (ServerSoak soak : soaks) {
                System.out.println("server " + soak.server.label + " log:\n" + soak.server.serverLines());
                soak.server.close();
            }
        }
    }

    /** Greedy, seeded, and seeded with n=2: each prompt's solo run is the reference of every later run. */
    private enum Kind {
        GREEDY, SEEDED, SEEDED_N2;

        String json(int prompt, boolean stream) {
            return "{\"prompt\": \"" + PROMPTS[prompt] + "\", \"max_tokens\": " + MAX_TOKENS + ", \"ignore_eos\": true"
                    + (this == GREEDY ? ", \"temperature\": 0" : ", \"temperature\": 0.8, \"seed\": " + (1000 + prompt))
                    + (this == SEEDED_N2 ? ", \"n\": 2" : "")
                    + (stream ? ", \"stream\": true, \"stream_options\": {\"include_usage\": true}" : "") + "}";
        }

        int n() {
            return this == SEEDED_N2 ? 2 : 1;
        }
    }

    private void soloRuns() {
        for (int p = 0; p < PROMPTS.length; p++) {
            for (Kind k : Kind.values()) {
                JsonNode r = Http.json(Http.post(server.base + "/v1/completions", k.json(p, false)).body());
                List<String> texts = new ArrayList<>();
                for (JsonNode c : r.get("choices")) {
                    texts.add(c.get("text").asText());
                }
                solo.put(k + " " + p, texts);
            }
        }
    }

    private void smallRequests() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicInteger next = new AtomicInteger();
        long rss100 = 0;
        for (int target : new int[] {100, 5000}) {
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                fs.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < target; i = next.getAndIncrement()) {
                        HttpResponse<String> r = Http.post(server.base + "/v1/completions", "{\"prompt\": \"" + PROMPTS[i % PROMPTS.length]
                                + "\", \"max_tokens\": 16, \"temperature\": 0}");
                        if (r.statusCode() != 200) {
                            throw new IllegalStateException(r.body());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
            next.set(target);
            long rss = server.rssMib();
            System.out.printf("[%s] RSS after %d small requests: %d MiB%n", server.label, target, rss);
            if (target == 100) {
                rss100 = rss;
            } else {
                System.out.printf("[%s] RSS ratio 5000/100: %.2f%n", server.label, (double) rss / rss100);
            }
        }
        pool.shutdown();
    }

    /** A completed 16-token stream: its request id and the latency its client saw (ns). */
    private record Completed(String id, long nanos) {
    }

    private void soak(int seconds, boolean hostile) throws Exception {
        long before = server.rssMib();
        long[] mark = server.mark();
        Map<String, Double> cpuBefore = server.threadCpu();
        long clientCpuBefore = clientCpuNanos();
        long preemptionsBefore = preemptions(Http.get(server.base + "/metrics").body());
        long startNanos = System.nanoTime();
        long end = startNanos + TimeUnit.SECONDS.toNanos(seconds);
        AtomicInteger sent = new AtomicInteger();
        AtomicInteger hungUp = new AtomicInteger();
        AtomicInteger mismatched = new AtomicInteger();
        AtomicInteger duplicated = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        Set<String> ids = ConcurrentHashMap.newKeySet();
        List<Completed> completed = Collections.synchronizedList(new ArrayList<>());
        List<Long> bigLatencies = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger bigAnswered = new AtomicInteger();
        AtomicInteger halfOpenCycles = new AtomicInteger();
        AtomicLong maxRss = new AtomicLong(before);
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < 64; c++) {
            int client = c;
            threads.add(Thread.ofVirtual().start(() -> {
                try (SoakConnection connection = new SoakConnection(server.port)) {
                    for (int round = 0; System.nanoTime() < end; round++) {
                        int prompt = (client + round) % PROMPTS.length;
                        Kind kind = client % 4 == 0 ? Kind.SEEDED_N2 : client % 2 == 1 ? Kind.SEEDED : Kind.GREEDY;
                        sent.incrementAndGet();
                        try {
                            if ((client + round) % 8 == 3) {
                                hungUp.incrementAndGet();
                                Http.streamThenHangUp(server.port, "/v1/completions", kind.json(prompt, true), 3);
                                continue;
                            }
                            String requestId = "soak-" + requestIds.incrementAndGet();
                            SoakConnection.Response r = connection.post("/v1/completions",
                                    kind.json(prompt, true).getBytes(StandardCharsets.UTF_8), requestId);
                            if (r.status() != 200) {
                                failed.incrementAndGet();
                                System.out.println("failed: " + r.status() + " " + r.text());
                                continue;
                            }
                            List<JsonNode> events = Http.events(r.text());
                            String[] texts = new String[kind.n()];
                            int finishes = 0;
                            Set<String> chunkIds = new HashSet<>();
                            for (JsonNode e : events) {
                                chunkIds.add(e.get("id").asText());
                                for (JsonNode ch : e.get("choices")) {
                                    int i = ch.get("index").asInt();
                                    texts[i] = (texts[i] == null ? "" : texts[i]) + ch.get("text").asText();
                                    finishes += ch.get("finish_reason").isNull() ? 0 : 1;
                                }
                            }
                            if (chunkIds.size() != 1 || !ids.add(chunkIds.iterator().next()) || finishes != kind.n()) {
                                duplicated.incrementAndGet();
                            }
                            if (!List.of(texts).equals(solo.get(kind + " " + prompt))) {
                                mismatched.incrementAndGet();
                            }
                            completed.add(new Completed(requestId, r.nanos()));
                        } catch (RuntimeException | IOException e) {
                            failed.incrementAndGet();
                            System.out.println("failed: " + e);
                        }
                    }
                }
            }));
        }
        // Encoded once: the soak's own clients share the machine, and a real hostile client's encoding is not the server's cost.
        byte[] bigBody = ("{\"prompt\": \"" + "Once upon a time ".repeat(15_000_000 / 17) + "\"}").getBytes(StandardCharsets.UTF_8);
        for (int c = 0; c < (hostile ? 4 : 0); c++) {
            threads.add(Thread.ofVirtual().start(() -> {
                try (SoakConnection connection = new SoakConnection(server.port)) {
                    while (System.nanoTime() < end) {
                        try {
                            SoakConnection.Response r = connection.post("/v1/completions", bigBody, null);
                            bigLatencies.add(r.nanos());
                            if (r.status() == 400) {
                                bigAnswered.incrementAndGet();
                            } else {
                                System.out.println("15 MB prompt answered " + r.status());
                            }
                        } catch (RuntimeException | IOException e) {
                            System.out.println("15 MB prompt failed: " + e);
                        }
                    }
                }
            }));
        }
        for (int c = 0; c < (hostile ? 2000 : 0); c++) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (System.nanoTime() < end) {
                    try (Socket s = new Socket("127.0.0.1", server.port)) {
                        s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
                        s.getOutputStream().write("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le"
                                .getBytes(StandardCharsets.US_ASCII));
                        InputStream in = s.getInputStream();
                        while (in.read() >= 0) {
                            // Until the server times the connection out.
                        }
                        halfOpenCycles.incrementAndGet();
                    } catch (IOException e) {
                        // The soak ended, or the connection was refused or reset: open the next one.
                    }
                }
            }));
        }
        Thread sampler = Thread.ofVirtual().start(() -> {
            while (System.nanoTime() < end) {
                maxRss.accumulateAndGet(server.rssMib(), Math::max);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        for (Thread t : threads) {
            t.join();
        }
        sampler.join();
        double wall = (System.nanoTime() - startNanos) / 1e9;
        Map<String, Double> cpuAfter = server.threadCpu();
        double clientCpu = (clientCpuNanos() - clientCpuBefore) / 1e9;
        long during = maxRss.get();
        // Idle: every request finished, the KV cache empty; then give the collector a periodic cycle.
        String metrics = "";
        for (int i = 0; i < 600; i++) {
            metrics = Http.get(server.base + "/metrics").body();
            if (metrics.contains("pagoda:num_requests_running{model_name=\"stories260K\"} 0")
                    && metrics.contains("pagoda:num_requests_waiting{model_name=\"stories260K\"} 0")) {
                break;
            }
            Thread.sleep(100);
        }
        double[] gc = server.gcPauses(mark);
        Map<String, SoakServer.Access> access = server.accesses(mark);
        Thread.sleep(15_000);
        long after = server.rssMib();
        metrics = Http.get(server.base + "/metrics").body();

        String tag = "[" + server.label + "] ";
        System.out.printf("%s== %s%n", tag, hostile ? "with 4 clients looping 15 MB prompts and 2,000 half-open connections" : "streaming clients alone");
        System.out.printf("%ssoak %d s: %d streaming requests sent, %d completed (%.1f/s), %d hung up, %d failed; %d mismatched solo, %d duplicated%n",
                tag, seconds, sent.get(), completed.size(), completed.size() / wall, hungUp.get(), failed.get(), mismatched.get(), duplicated.get());
        latencies(tag, completed, access);
        if (hostile) {
            List<Long> big = new ArrayList<>(bigLatencies);
            Collections.sort(big);
            System.out.printf("%s15 MB prompts: %d answered 400 of %d, p50 %.3f s, max %.3f s%n", tag, bigAnswered.get(), big.size(),
                    pct(big, 0.5), big.isEmpty() ? 0 : big.getLast() / 1e9);
            System.out.printf("%shalf-open connections: 2000 kept open, %d timed out by the server and reopened%n", tag, halfOpenCycles.get());
        }
        System.out.printf("%sRSS before %d MiB, during (max) %d MiB, after %d MiB%n", tag, before, during, after);
        System.out.printf("%sGC: %d pauses, %.0f ms in all, longest %.1f ms; preemptions %d%n", tag, (long) gc[0], gc[1], gc[2],
                preemptions(metrics) - preemptionsBefore);
        cpu(tag, wall, cpuBefore, cpuAfter, clientCpu);
        for (String line : metrics.split("\n")) {
            if ((line.startsWith("pagoda:requests_rejected_total") && !line.endsWith(" 0")) || line.startsWith("pagoda:kv_cache_blocks")
                    || line.startsWith("pagoda:requests_disconnected_total")) {
                System.out.println(tag + "  " + line);
            }
        }
    }

    /**
     * The 16-token streams' latency as the client saw it, and its parts from the server's access lines: queue (from
     * the request's headers until the engine first scheduled it), first token after that, the rest of the stream,
     * and the client's part (sending, the server reading the headers, the response's last bytes reaching the
     * client, the client threads' own scheduling: what the client saw beyond the server's exchange). Percentiles of each, then the mean of each part over the slowest 1%.
     */
    private static void latencies(String tag, List<Completed> completed, Map<String, SoakServer.Access> access) {
        List<Completed> sorted = new ArrayList<>(completed);
        sorted.sort((a, b) -> Long.compare(a.nanos(), b.nanos()));
        List<Long> nanos = sorted.stream().map(Completed::nanos).toList();
        System.out.printf("%s16-token streams (request sent -> last byte received): p50 %.3f s, p99 %.3f s, max %.3f s (n=%d)%n",
                tag, pct(nanos, 0.5), pct(nanos, 0.99),
                nanos.isEmpty() ? 0 : nanos.getLast() / 1e9, nanos.size());
        Map<String, ToDoubleFunction<Completed>> parts = new LinkedHashMap<>();
        parts.put("queue", c -> access.get(c.id()).queue());
        parts.put("first token", c -> access.get(c.id()).ttft() - access.get(c.id()).queue());
        parts.put("rest of stream", c -> access.get(c.id()).duration() - access.get(c.id()).ttft());
        parts.put("client side", c -> c.nanos() / 1e9 - access.get(c.id()).duration());
        List<Completed> logged = sorted.stream().filter(c -> access.containsKey(c.id())).toList();
        if (logged.isEmpty()) {
            return;
        }
        List<Completed> slowest = logged.subList((int) Math.min(logged.size() - 1, Math.floor(logged.size() * 0.99)), logged.size());
        StringBuilder sb = new StringBuilder(tag + "  parts (p50 / p99 / mean of the slowest 1%):");
        for (Map.Entry<String, ToDoubleFunction<Completed>> p : parts.entrySet()) {
            double[] v = logged.stream().mapToDouble(p.getValue()).sorted().toArray();
            sb.append(String.format(" %s %.3f / %.3f / %.3f s;", p.getKey(), v[(v.length - 1) / 2], v[(int) Math.ceil(0.99 * v.length) - 1],
                    slowest.stream().mapToDouble(p.getValue()).average().orElse(0)));
        }
        System.out.println(sb);
    }

    /** CPU seconds per server thread group over the phase (the largest), and the soak's own. */
    private static void cpu(String tag, double wall, Map<String, Double> before, Map<String, Double> after, double clientCpu) {
        StringBuilder sb = new StringBuilder(String.format("%sCPU over %.0f s: soak clients %.1f s; server", tag, wall, clientCpu));
        double total = 0;
        List<Map.Entry<String, Double>> groups = new ArrayList<>();
        for (Map.Entry<String, Double> e : after.entrySet()) {
            double d = e.getValue() - before.getOrDefault(e.getKey(), 0.0);
            total += d;
            groups.add(Map.entry(e.getKey(), d));
        }
        groups.sort((a, b) -> Double.compare(b.getValue(), a.getValue()));
        sb.append(String.format(" %.1f s:", total));
        for (Map.Entry<String, Double> e : groups.subList(0, Math.min(7, groups.size()))) {
            sb.append(String.format(" %s %.1f,", e.getKey(), e.getValue()));
        }
        System.out.println(sb);
    }

    private static long clientCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long preemptions(String metrics) {
        return Arrays.stream(metrics.split("\n")).filter(l -> l.startsWith("pagoda:num_preemptions_total"))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static double pct(List<Long> sorted, double q) {
        return sorted.isEmpty() ? 0 : sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(q * sorted.size()) - 1)) / 1e9;
    }
}
