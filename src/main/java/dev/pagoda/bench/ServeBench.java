package dev.pagoda.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.PagodaException;
import dev.pagoda.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.IntConsumer;

/**
 * The serving benchmark (vLLM bench serve): requests sent to an OpenAI-compatible completions endpoint at
 * gamma-distributed times, at most {@code maxConcurrency} in flight, each streamed with {@code ignore_eos} and
 * {@code max_tokens} set to its output length; one warm-up request first. The client times every streamed chunk.
 * Tokens are counted with a local tokenizer (the served model's), so any server works: it needs no {@code /tokenize}
 * and need not say its max model length; a usage chunk, when the server sends one, gives the output count.
 */
public final class ServeBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Text whose tokens make up the prompts, so they are real tokens of the served model. */
    private static final String CORPUS = "Once upon a time, in a small town by the sea, there lived a girl named Mia. "
            + "Every morning she walked to the harbor to watch the boats come in. One day she found a little blue shell "
            + "that sang when the wind blew. She showed it to her friend Sam, and together they listened to its song. "
            + "The old fisherman smiled and told them the shell came from a faraway island where the trees were tall "
            + "and the birds could talk. Mia and Sam decided to build a boat and find the island. They worked hard all "
            + "summer, and when the boat was ready, they sailed away with the singing shell to show them the way.";

    /**
     * Where to send, and how. {@code endpoint}: the completions path under the base URL (vLLM's {@code --endpoint});
     * {@code maxConcurrency} 0 is unbounded.
     */
    public record Options(URI baseUrl, String endpoint, String model, String apiKey, double requestRate, double burstiness,
                          int maxConcurrency, long seed) {
        public Options {
            if (endpoint.contains("chat")) {
                throw new PagodaException("--endpoint " + endpoint + ": only a completions endpoint can be benchmarked (the prompts are token ids)");
            }
        }
    }

    /**
     * What the server says about itself: the served model id, its max model length (0 when it does not say), and
     * where it loaded the model from (vLLM's and Pagoda's {@code root}; null when it does not say).
     */
    public record ServerInfo(String model, int maxModelLen, String root) {
        public ServerInfo(String model, int maxModelLen) {
            this(model, maxModelLen, null);
        }
    }

    private final Options options;
    private final Tokenizer tokenizer;
    private final HttpClient http;

    /** @param tokenizer the served model's tokenizer, local: it makes the prompts and counts output without usage */
    public ServeBench(Options options, Tokenizer tokenizer) {
        this.options = options;
        this.tokenizer = tokenizer;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
    }

    /**
     * GET /v1/models: the first model (or the one asked for) and its max_model_len when listed (vLLM and Pagoda list it).
     * A named model is taken at its word when the server lists another or has no /v1/models (llama-server serves its
     * one model under any name), as vLLM's bench does.
     */
    public ServerInfo probe() {
        JsonNode models;
        try {
            models = get("/v1/models");
        } catch (PagodaException e) {
            if (options.model() == null) {
                throw new PagodaException(e.getMessage() + " (name the model with --model to go without /v1/models)");
            }
            return new ServerInfo(options.model(), 0);
        }
        for (JsonNode m : models.path("data")) {
            if (options.model() == null || options.model().equals(m.path("id").asText())) {
                return new ServerInfo(m.path("id").asText(), Math.max(0, m.path("max_model_len").asInt(0)),
                        m.hasNonNull("root") ? m.get("root").asText() : null);
            }
        }
        if (options.model() != null) {
            return new ServerInfo(options.model(), 0);
        }
        throw new PagodaException(options.baseUrl() + "/v1/models lists no model");
    }

    /**
     * Prompts of the workload's lengths made of the served model's own tokens (the corpus tokenized by the local
     * tokenizer, windows taken at seeded offsets); outputs as drawn. The same seed gives the same prompts for any server.
     */
    public List<ServeBenchRequest> requests(List<SyntheticWorkload.Request> lengths, long seed) {
        int[] pool = tokenizer.encode(CORPUS, false, false);
        if (pool.length == 0) {
            throw new PagodaException("the tokenizer makes no tokens of the benchmark's text");
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        List<ServeBenchRequest> out = new ArrayList<>(lengths.size());
        for (SyntheticWorkload.Request r : lengths) {
            int[] p = new int[r.promptTokens()];
            int from = rnd.nextInt(pool.length);
            for (int i = 0; i < p.length; i++) {
                p[i] = pool[(from + i) % pool.length];
            }
            out.add(new ServeBenchRequest(p, r.outputTokens()));
        }
        return out;
    }

    /** Sends one request, not counted, to check the setup and warm the server up (vLLM does the same). */
    public void warmUp(String model, ServeBenchRequest request) {
        ServeBenchRequest.Outcome warm = send(model, request, 0, System.nanoTime());
        if (!warm.success()) {
            throw new PagodaException("the warm-up request failed: " + warm.error());
        }
    }

    /**
     * Sends every request at its arrival time; {@code progress} hears of each finished one. Returns the outcomes
     * in request order and the wall time from the first send to the last finish.
     */
    public Run run(String model, List<ServeBenchRequest> requests, IntConsumer progress) throws InterruptedException {
        if (requests.isEmpty()) {
            throw new PagodaException("--num-prompts must be at least 1");
        }
        double[] at = ArrivalSchedule.times(requests.size(), options.requestRate(), options.burstiness(), options.seed());
        Semaphore slots = options.maxConcurrency() > 0 ? new Semaphore(options.maxConcurrency()) : null;
        List<Future<ServeBenchRequest.Outcome>> futures = new ArrayList<>(requests.size());
        long start = System.nanoTime();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < requests.size(); i++) {
                long due = start + (long) (at[i] * 1e9);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                ServeBenchRequest r = requests.get(i);
                int index = i;
                if (slots != null) {
                    slots.acquire();
                }
                futures.add(clients.submit(() -> {
                    try {
                        return send(model, r, (System.nanoTime() - start) / 1e9, System.nanoTime());
                    } finally {
                        if (slots != null) {
                            slots.release();
                        }
                        progress.accept(index);
                    }
                }));
            }
        }
        double duration = (System.nanoTime() - start) / 1e9;
        List<ServeBenchRequest.Outcome> outcomes = new ArrayList<>(futures.size());
        for (Future<ServeBenchRequest.Outcome> f : futures) {
            outcomes.add(f.resultNow());
        }
        return new Run(outcomes, duration);
    }

    /** The outcomes in request order, and seconds from the first send to the last finish. */
    public record Run(List<ServeBenchRequest.Outcome> outcomes, double durationSeconds) {
    }

    /** One streamed completion, timing each chunk as it arrives. */
    private ServeBenchRequest.Outcome send(String model, ServeBenchRequest r, double sendSeconds, long t0) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", model);
        ArrayNode prompt = body.putArray("prompt");
        for (int t : r.prompt()) {
            prompt.add(t);
        }
        body.put("max_tokens", r.outputTokens());
        body.put("ignore_eos", true);
        body.put("temperature", 0);
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        int promptTokens = r.prompt().length;
        try {
            HttpResponse<InputStream> resp = http.send(request(options.endpoint()).POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                    .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
                if (resp.statusCode() != 200) {
                    StringBuilder sb = new StringBuilder();
                    in.lines().forEach(sb::append);
                    return ServeBenchRequest.Outcome.failed(promptTokens, sendSeconds, "HTTP " + resp.statusCode() + ": " + sb);
                }
                double ttft = 0;
                long last = 0;
                List<Double> itls = new ArrayList<>();
                int outputTokens = -1;
                StringBuilder text = new StringBuilder();
                boolean done = false;
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (!line.startsWith("data: ")) {
                        continue;
                    }
                    long now = System.nanoTime();
                    String data = line.substring(6);
                    if (data.equals("[DONE]")) {
                        done = true;
                        break;
                    }
                    JsonNode chunk = JSON.readTree(data);
                    if (chunk.has("error")) {
                        return ServeBenchRequest.Outcome.failed(promptTokens, sendSeconds, chunk.get("error").path("message").asText());
                    }
                    if (!chunk.path("choices").isEmpty()) {
                        for (JsonNode c : chunk.path("choices")) {
                            text.append(c.path("text").asText(""));
                        }
                        if (last == 0) {
                            ttft = (now - t0) / 1e9;
                        } else {
                            itls.add((now - last) / 1e9);
                        }
                        last = now;
                    }
                    JsonNode usage = chunk.get("usage");
                    if (usage != null && !usage.isNull()) {
                        outputTokens = usage.path("completion_tokens").asInt();
                    }
                }
                if (!done || last == 0) {
                    return ServeBenchRequest.Outcome.failed(promptTokens, sendSeconds, "the stream ended early");
                }
                double latency = (last - t0) / 1e9;
                return new ServeBenchRequest.Outcome(promptTokens, sendSeconds, ttft, itls.stream().mapToDouble(Double::doubleValue).toArray(),
                        latency, outputTokens < 0 ? tokenizer.encode(text.toString(), false, false).length : outputTokens, null);
            }
        } catch (IOException e) {
            return ServeBenchRequest.Outcome.failed(promptTokens, sendSeconds, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ServeBenchRequest.Outcome.failed(promptTokens, sendSeconds, "interrupted");
        }
    }

    private HttpRequest.Builder request(String path) {
        // Appended, not resolved: a base URL with a path (a proxy's prefix) keeps it, as vLLM's --base-url does.
        String base = options.baseUrl().toString();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path))
                .timeout(Duration.ofMinutes(30));
        if (options.apiKey() != null) {
            b.header("Authorization", "Bearer " + options.apiKey());
        }
        return b;
    }

    private JsonNode get(String path) {
        return exchange(request(path).GET().build(), path);
    }

    private JsonNode exchange(HttpRequest req, String path) {
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new PagodaException(options.baseUrl() + path + " answered HTTP " + r.statusCode() + ": " + r.body());
            }
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new PagodaException("cannot reach " + options.baseUrl() + path + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PagodaException("interrupted");
        }
    }
}
