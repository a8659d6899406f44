package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pagoda.TestData;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The issue 11 soak, not part of the unit suite: starts {@code ./pagoda serve} (the launcher's heap settings) on
 * stories260K with a KV cache small enough to force preemption, then
 * <ol>
 *   <li>5,000 small requests (8 clients): RSS after 100 and after 5,000;</li>
 *   <li>for 60 s at once: 64 streaming clients (every 8th request hangs up after 3 events, a quarter with n=2, half
 *       seeded), 4 clients looping 15 MB prompts, 2,000 half-open connections (a partial header, kept up as the server
 *       times them out); RSS sampled throughout;</li>
 * </ol>
 * and reports the p99 latency of the 16-token requests, lost and duplicated requests, outputs against their solo
 * runs, used KV blocks once idle, and RSS before, during and after. Traffic goes to 127.0.0.1 only.
 *
 * <p>Run: {@code mvn -q -o test-compile && java -cp "target/classes:target/test-classes:target/lib/*" dev.pagoda.server.ServerSoak [seconds]}
 */
public final class ServerSoak {
    private static final String[] PROMPTS = {"Once upon a time", "Lily wanted to", "The little dog", "One day, Tom",
            "There was a big tree", "Sam and Mia went", "The sun was", "A cat named"};
    private static final int MAX_TOKENS = 16;

    private final String base;
    private final long pid;
    private final Map<String, List<String>> solo = new ConcurrentHashMap<>();

    private ServerSoak(String base, long pid) {
        this.base = base;
        this.pid = pid;
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        Path log = Files.createTempFile("pagoda-soak", ".log");
        // 48 blocks of 16 slots (1280 bytes a slot): 64 streams of ~22 tokens, some with n=2, need ~150.
        Process server = new ProcessBuilder("./pagoda", "serve", "--model", TestData.path("models/stories260K/stories260K.bin").toString(),
                "--port", "0", "--max-model-len", "512", "--kv-cache-memory", Long.toString(48L * 16 * 1280), "--max-body-size", "16MiB")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Pattern listening = Pattern.compile("on (http://127\\.0\\.0\\.1:\\d+)/v1");
            String base = null;
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (base == null && server.isAlive() && System.nanoTime() < deadline) {
                Matcher m = listening.matcher(Files.readString(log));
                if (m.find()) {
                    base = m.group(1);
                } else {
                    Thread.sleep(100);
                }
            }
            if (base == null) {
                throw new IllegalStateException("the server did not start: " + Files.readString(log));
            }
            new ServerSoak(base, server.pid()).run(seconds);
        } finally {
            server.destroy();
            server.waitFor(60, TimeUnit.SECONDS);
            System.out.println("server log:\n" + Files.readString(log).lines().filter(l -> !l.startsWith("[")).limit(40)
                    .reduce("", (a, b) -> a + "  " + b + "\n"));
        }
    }

    private void run(int seconds) throws Exception {
        System.out.printf("server %s, pid %d; RSS at start %d MiB%n", base, pid, rssMib());
        for (int p = 0; p < PROMPTS.length; p++) {
            for (Kind k : Kind.values()) {
                JsonNode r = Http.json(Http.post(base + "/v1/completions", k.json(p, false)).body());
                List<String> texts = new ArrayList<>();
                for (JsonNode c : r.get("choices")) {
                    texts.add(c.get("text").asText());
                }
                solo.put(k + " " + p, texts);
            }
        }
        smallRequests();
        // The same streaming clients alone first: on a shared machine only the ratio of the two runs means much.
        soak(seconds, false);
        soak(seconds, true);
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

    private void smallRequests() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicInteger next = new AtomicInteger();
        long rss100 = 0;
        for (int target : new int[] {100, 5000}) {
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                fs.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < target; i = next.getAndIncrement()) {
                        HttpResponse<String> r = Http.post(base + "/v1/completions", "{\"prompt\": \"" + PROMPTS[i % PROMPTS.length]
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
            long rss = rssMib();
            System.out.printf("RSS after %d small requests: %d MiB%n", target, rss);
            if (target == 100) {
                rss100 = rss;
            } else {
                System.out.printf("RSS ratio 5000/100: %.2f%n", (double) rss / rss100);
            }
        }
        pool.shutdown();
    }

    private void soak(int seconds, boolean hostile) throws Exception {
        long before = rssMib();
        long startNanos = System.nanoTime();
        long end = startNanos + TimeUnit.SECONDS.toNanos(seconds);
        AtomicInteger sent = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger hungUp = new AtomicInteger();
        AtomicInteger mismatched = new AtomicInteger();
        AtomicInteger duplicated = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        Set<String> ids = ConcurrentHashMap.newKeySet();
        List<Long> latencies = new CopyOnWriteArrayList<>();
        List<Long> bigLatencies = new CopyOnWriteArrayList<>();
        AtomicInteger bigAnswered = new AtomicInteger();
        AtomicInteger halfOpenCycles = new AtomicInteger();
        AtomicLong maxRss = new AtomicLong(before);
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < 64; c++) {
            int client = c;
            threads.add(Thread.ofVirtual().start(() -> {
                for (int round = 0; System.nanoTime() < end; round++) {
                    int prompt = (client + round) % PROMPTS.length;
                    Kind kind = client % 4 == 0 ? Kind.SEEDED_N2 : client % 2 == 1 ? Kind.SEEDED : Kind.GREEDY;
                    sent.incrementAndGet();
                    try {
                        if ((client + round) % 8 == 3) {
                            hungUp.incrementAndGet();
                            Http.streamThenHangUp(Integer.parseInt(base.substring(base.lastIndexOf(':') + 1)), "/v1/completions",
                                    kind.json(prompt, true), 3);
                            continue;
                        }
                        long t0 = System.nanoTime();
                        HttpResponse<String> r = Http.post(base + "/v1/completions", kind.json(prompt, true));
                        long took = System.nanoTime() - t0;
                        if (r.statusCode() != 200) {
                            failed.incrementAndGet();
                            System.out.println("failed: " + r.statusCode() + " " + r.body());
                            continue;
                        }
                        latencies.add(took);
                        List<JsonNode> events = Http.events(r.body());
                        String[] texts = new String[kind.n()];
                        int finishes = 0;
                        Set<String> chunkIds = new java.util.HashSet<>();
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
                        completed.incrementAndGet();
                    } catch (RuntimeException | IOException e) {
                        failed.incrementAndGet();
                        System.out.println("failed: " + e);
                    }
                }
            }));
        }
        String bigBody = "{\"prompt\": \"" + "Once upon a time ".repeat(15_000_000 / 17) + "\"}";
        for (int c = 0; c < (hostile ? 4 : 0); c++) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<String> r = Http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                                .POST(HttpRequest.BodyPublishers.ofString(bigBody)).build());
                        bigLatencies.add(System.nanoTime() - t0);
                        if (r.statusCode() == 400) {
                            bigAnswered.incrementAndGet();
                        } else {
                            System.out.println("15 MB prompt answered " + r.statusCode());
                        }
                    } catch (RuntimeException e) {
                        System.out.println("15 MB prompt failed: " + e);
                    }
                }
            }));
        }
        int port = Integer.parseInt(base.substring(base.lastIndexOf(':') + 1));
        for (int c = 0; c < (hostile ? 2000 : 0); c++) {
            threads.add(Thread.ofVirtual().start(() -> {
                while (System.nanoTime() < end) {
                    try (Socket s = new Socket("127.0.0.1", port)) {
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
                maxRss.accumulateAndGet(rssMib(), Math::max);
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
        long during = maxRss.get();
        // Idle: every request finished, the KV cache empty; then give the collector a periodic cycle.
        String metrics = "";
        for (int i = 0; i < 600; i++) {
            metrics = Http.get(base + "/metrics").body();
            if (metrics.contains("pagoda:num_requests_running{model_name=\"stories260K\"} 0")
                    && metrics.contains("pagoda:num_requests_waiting{model_name=\"stories260K\"} 0")) {
                break;
            }
            Thread.sleep(100);
        }
        Thread.sleep(15_000);
        long after = rssMib();
        metrics = Http.get(base + "/metrics").body();

        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        System.out.printf("%s%n", hostile ? "== with 4 clients looping 15 MB prompts and 2,000 half-open connections" : "== streaming clients alone");
        System.out.printf("soak %d s: %d streaming requests sent, %d completed, %d hung up, %d failed; %d mismatched solo, %d duplicated%n",
                seconds, sent.get(), completed.get(), hungUp.get(), failed.get(), mismatched.get(), duplicated.get());
        System.out.printf("16-token streams: p50 %.3f s, p99 %.3f s, max %.3f s (n=%d)%n", pct(sorted, 0.5), pct(sorted, 0.99),
                sorted.isEmpty() ? 0 : sorted.getLast() / 1e9, sorted.size());
        List<Long> big = new ArrayList<>(bigLatencies);
        Collections.sort(big);
        System.out.printf("15 MB prompts: %d answered 400 of %d, p50 %.3f s, max %.3f s%n", bigAnswered.get(), big.size(), pct(big, 0.5),
                big.isEmpty() ? 0 : big.getLast() / 1e9);
        System.out.printf("half-open connections: 2000 kept open, %d timed out by the server and reopened%n", halfOpenCycles.get());
        System.out.printf("RSS before %d MiB, during (max) %d MiB, after %d MiB%n", before, during, after);
        for (String line : metrics.split("\n")) {
            if (line.startsWith("pagoda:request_success_total") || line.startsWith("pagoda:requests_rejected_total")
                    || line.startsWith("pagoda:kv_cache_blocks") || line.startsWith("pagoda:num_preemptions_total")
                    || line.startsWith("pagoda:requests_disconnected_total")) {
                System.out.println("  " + line);
            }
        }
    }

    private static double pct(List<Long> sorted, double q) {
        return sorted.isEmpty() ? 0 : sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(q * sorted.size()) - 1)) / 1e9;
    }

    private long rssMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }
}
