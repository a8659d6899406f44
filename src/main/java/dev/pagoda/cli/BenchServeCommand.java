package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.ProgressBar;
import dev.pagoda.bench.ServeBench;
import dev.pagoda.bench.ServeBenchRequest;
import dev.pagoda.bench.ServeBenchResult;
import dev.pagoda.bench.SyntheticWorkload;
import dev.pagoda.model.Model;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pagoda bench serve}: vLLM's serving benchmark against any OpenAI-compatible server. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Benchmark a running server (pagoda serve, vLLM, llama-server or any OpenAI-compatible one) the way "
                + "vLLM's bench serve does: streamed completions with ignore_eos at Poisson/gamma arrivals, one warm-up "
                + "request first; reports throughput, goodput and TTFT/TPOT/ITL/end-to-end latency (mean, median, p90, p99).",
                "Tokens are counted with a local tokenizer (--tokenizer), so the same --seed sends the same prompts to any server."})
final class BenchServeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"--base-url", "--url"}, defaultValue = "http://127.0.0.1:8000", description = "Server base URL (default: ${DEFAULT-VALUE}).")
    String url;

    @Option(names = "--endpoint", defaultValue = "/v1/completions", description = "Completions path under the base URL (default: ${DEFAULT-VALUE}).")
    String endpoint;

    @Option(names = "--backend", defaultValue = "openai", description = "The API spoken: openai, the OpenAI completions API (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--model", description = "Served model id (default: the server's first in /v1/models; needed when it has none).")
    String model;

    @Option(names = "--tokenizer", paramLabel = "MODEL",
            description = "Local model whose tokenizer makes the prompts and counts tokens (as --model elsewhere; default: the served model id, "
                    + "when it names a local model or one in the Hugging Face cache).")
    String tokenizer;

    @Option(names = "--max-model-len", paramLabel = "N",
            description = "Cap of prompt + output tokens (default: the server's max_model_len in /v1/models, else no cap).")
    Integer maxModelLen;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Sent as 'Authorization: Bearer KEY'.")
    String apiKey;

    @Option(names = "--workload", defaultValue = "sharegpt",
            description = "sharegpt, alpaca or seed (synthetic lengths, see bench memory), or random (--input-len/--output-len) (default: ${DEFAULT-VALUE}).")
    String workload;

    @Option(names = "--input-len", defaultValue = "128", description = "Prompt tokens of the random workload (default: ${DEFAULT-VALUE}).")
    int inputLen;

    @Option(names = "--output-len", defaultValue = "128", description = "Output tokens of the random workload (default: ${DEFAULT-VALUE}).")
    int outputLen;

    @Option(names = "--num-prompts", defaultValue = "100", description = "Requests (default: ${DEFAULT-VALUE}).")
    int numPrompts;

    @Option(names = "--request-rate", defaultValue = "inf", description = "Requests per second, or inf to send all at once (default: ${DEFAULT-VALUE}).")
    String requestRate;

    @Option(names = "--burstiness", defaultValue = "1", description = "Gamma shape of the arrival gaps: 1 is Poisson, lower is burstier (default: ${DEFAULT-VALUE}).")
    double burstiness;

    @Option(names = "--max-concurrency", defaultValue = "0", description = "Requests in flight at most; 0 is unbounded (default: ${DEFAULT-VALUE}).")
    int maxConcurrency;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the lengths, prompts and arrivals (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--goodput", arity = "1..*", paramLabel = "METRIC:MS", description = "SLOs for goodput, e.g. ttft:500 tpot:50 (e2el too).")
    List<String> goodput;

    @Option(names = "--save-result", paramLabel = "FILE.json", description = "Write the result and every request's timings as JSON.")
    Path saveResult;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Plot TTFT and end-to-end latency by send time.")
    Path plot;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, Double> slos = ServeBenchResult.parseSlos(goodput);
        double rate = rate(requestRate);
        if (maxConcurrency < 0) {
            throw new PagodaException("--max-concurrency must not be negative, got " + maxConcurrency);
        }
        if (!backend.equals("openai")) {
            throw new PagodaException("--backend " + backend + " is not supported: openai (the OpenAI completions API) is");
        }
        ServeBench.Options options = new ServeBench.Options(URI.create(url), endpoint.startsWith("/") ? endpoint : "/" + endpoint, model,
                apiKey, rate, burstiness, maxConcurrency, seed);
        ServeBench.ServerInfo info = new ServeBench(options, null).probe();
        try (Model local = tokenizerModel(info)) {
            return run(out, err, new ServeBench(options, local.tokenizer()), info, slos);
        }
    }

    /** The --tokenizer model, else the served model when its id, or the root the server loaded it from, resolves here. */
    private Model tokenizerModel(ServeBench.ServerInfo info) {
        if (tokenizer != null) {
            return open(tokenizer);
        }
        try {
            return open(info.model());
        } catch (PagodaException e) {
            if (info.root() != null && Files.exists(Path.of(info.root()))) {
                return open(info.root());
            }
            throw new PagodaException("the served model '" + info.model() + "' is not a local model, so its tokenizer is unknown here: "
                    + "name one with --tokenizer MODEL (" + e.getMessage() + ")");
        }
    }

    private static Model open(String spec) {
        ModelOption m = new ModelOption();
        m.model = spec;
        m.revision = "main";
        return m.open();
    }

    private int run(PrintWriter out, PrintWriter err, ServeBench bench, ServeBench.ServerInfo info, Map<String, Double> slos)
            throws InterruptedException {
        int cap = maxModelLen != null ? maxModelLen : info.maxModelLen() > 0 ? info.maxModelLen() : Integer.MAX_VALUE;
        List<ServeBenchRequest> requests = bench.requests(lengths(cap), seed);
        err.printf("bench serve: %d requests of %s to %s (%s) at %s req/s, burstiness %s, max concurrency %s%n", numPrompts, workload,
                url, info.model(), requestRate, burstiness, maxConcurrency == 0 ? "unbounded" : maxConcurrency);
        err.flush();
        bench.warmUp(info.model(), requests.getFirst());
        ProgressBar bar = noProgress ? null : new ProgressBar(err, "requests", requests.size());
        ServeBench.Run run = bench.run(info.model(), requests, i -> {
            if (bar != null) {
                bar.step();
            }
        });
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("Model", info.model());
        settings.put("Workload", workload);
        settings.put("Request rate (req/s)", requestRate);
        settings.put("Burstiness", burstiness);
        settings.put("Max concurrency", maxConcurrency == 0 ? "unbounded" : Integer.toString(maxConcurrency));
        ServeBenchResult result = new ServeBenchResult(run, slos, settings);
        out.print(result.table());
        out.flush();
        try {
            if (saveResult != null) {
                Files.writeString(saveResult, result.json());
                err.println("bench serve: wrote " + saveResult);
            }
        } catch (IOException e) {
            throw new PagodaException("cannot write " + saveResult + ": " + e.getMessage());
        }
        if (plot != null) {
            result.plot(plot);
            err.println("bench serve: wrote " + plot);
        }
        err.flush();
        return result.failed == 0 ? 0 : 1;
    }

    private static double rate(String text) {
        if (text.equalsIgnoreCase("inf") || text.equalsIgnoreCase("infinity")) {
            return Double.POSITIVE_INFINITY;
        }
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new PagodaException("--request-rate must be a number of requests per second or inf, got '" + text + "'");
        }
    }

    private List<SyntheticWorkload.Request> lengths(int maxModelLen) {
        if (numPrompts < 1) {
            throw new PagodaException("--num-prompts must be at least 1, got " + numPrompts);
        }
        if (!workload.equalsIgnoreCase("random")) {
            return SyntheticWorkload.parse(workload).generate(numPrompts, seed, maxModelLen);
        }
        if (inputLen < 1 || outputLen < 1 || (long) inputLen + outputLen > maxModelLen) {
            throw new PagodaException("--input-len " + inputLen + " + --output-len " + outputLen + " must be at least 1 each and fit the "
                    + "max model length " + maxModelLen);
        }
        List<SyntheticWorkload.Request> out = new ArrayList<>(numPrompts);
        for (int i = 0; i < numPrompts; i++) {
            out.add(new SyntheticWorkload.Request(inputLen, outputLen));
        }
        return out;
    }
}
