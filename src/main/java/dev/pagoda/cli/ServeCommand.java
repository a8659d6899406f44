package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.engine.LLM;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.server.OpenAiServer;
import dev.pagoda.server.ServerConfig;
import dev.pagoda.server.ServerLog;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serves the model over an OpenAI-compatible HTTP API (completions, chat, streaming, /metrics).",
                "SIGTERM or Ctrl-C: stop accepting, let running requests finish (--shutdown-timeout), exit 0."})
final class ServeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelArgument model;

    @Mixin
    EngineOptions engine;

    @Mixin
    ChatTemplateOption chatTemplate;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}; 0.0.0.0 for all interfaces).")
    String host;

    @Option(names = "--port", defaultValue = "8000", description = "TCP port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on every endpoint but /health (and /metrics with --public-metrics).")
    String apiKey;

    @Option(names = "--public-metrics", description = "Answer /metrics without the API key, as vLLM does (default: behind --api-key when one is set).")
    boolean publicMetrics;

    @Option(names = "--served-model-name", paramLabel = "NAME", description = "The model id clients use (default: the model's name).")
    String servedModelName;

    @Option(names = "--max-waiting", paramLabel = "N", defaultValue = "1024",
            description = "Requests queued before generating, at most; more are refused with 503 and Retry-After (default: ${DEFAULT-VALUE}).")
    int maxWaiting;

    @Option(names = "--max-body-size", paramLabel = "SIZE",
            description = "Larger request bodies get 413 (default: 8 x the max model length x the longest token's bytes, within 1MiB..64MiB).")
    String maxBodySize;

    @Option(names = "--header-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "A request's line and headers must arrive within this, else 408 and the connection is closed (default: ${DEFAULT-VALUE}).")
    int headerTimeout;

    @Option(names = "--body-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "A request body must arrive within this, else 408 and the connection is closed (default: ${DEFAULT-VALUE}).")
    int bodyTimeout;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "A keep-alive connection may idle this long between requests (default: ${DEFAULT-VALUE}).")
    int idleTimeout;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "4096",
            description = "Open client connections at most; more are answered 503 with Retry-After and closed (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--compute-threads", paramLabel = "N",
            description = "Threads computing the model (default: the cores but one, at least 1: a core is left to the HTTP threads, "
                    + "which would otherwise delay every step by descheduling a compute thread that the others wait for).")
    Integer computeThreads;

    @Option(names = "--shutdown-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "On SIGTERM, how long running requests may finish before they are cut (default: ${DEFAULT-VALUE}).")
    int shutdownTimeout;

    @Option(names = "--tool-call-parser", paramLabel = "NAME",
            description = "How tool_choice auto finds tool calls in the reply: hermes (<tool_call> JSON, Qwen2.5) or llama3_json "
                    + "(Llama 3.x JSON calls). Without it, auto replies are plain content.")
    String toolCallParser;

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "info",
            description = "error, warn, info or debug: the least severe lines logged; info has one access line per request "
                    + "and the stats line, debug adds /health and /metrics requests and idle stats (default: ${DEFAULT-VALUE}).")
    String logLevel;

    @Option(names = "--log-format", paramLabel = "FORMAT", defaultValue = "text",
            description = "text (key=value) or json (one object per line) (default: ${DEFAULT-VALUE}).")
    String logFormat;

    @Option(names = "--log-stats-interval", paramLabel = "SECONDS", defaultValue = "10",
            description = "While busy, log prompt and generation tok/s, running/waiting/swapped, KV cache usage and prefix cache "
                    + "hit rate every SECONDS; 0: never (default: ${DEFAULT-VALUE}).")
    double logStatsInterval;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        ServerLog.Level level = ServerLog.Level.parse(logLevel);
        ServerLog.Format format = ServerLog.Format.parse(logFormat);
        if (!(logStatsInterval >= 0)) {
            throw new PagodaException("--log-stats-interval must be 0 or more seconds, got " + logStatsInterval);
        }
        int threads = computeThreads(computeThreads, Runtime.getRuntime().availableProcessors());
        WorkerPool.sizeShared(threads);
        CountDownLatch stop = new CountDownLatch(1);
        // Handled rather than left to shutdown hooks, so that a graceful stop exits 0 (not 143).
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        ServerLog log;
        try (LLM llm = LLM.of(chatTemplate.applyTo(model.open()), engine.toConfig())) {
            String name = servedModelName == null ? llm.model().name() : servedModelName;
            ServerConfig config = new ServerConfig(host, port, apiKey, name, maxWaiting,
                    maxBodySize == null ? 0 : EngineOptions.size("--max-body-size", maxBodySize, 1),
                    Duration.ofSeconds(shutdownTimeout), Duration.ofSeconds(headerTimeout), Duration.ofSeconds(bodyTimeout),
                    Duration.ofSeconds(idleTimeout), maxConnections, publicMetrics, toolCallParser, level, format,
                    Duration.ofMillis(Math.round(logStatsInterval * 1000)));
            // Before listening: the first clients then meet compiled kernels.
            String warmUp = WarmUp.run(llm);
            // The server's lines and these go to the same stream, in one format.
            OpenAiServer server = OpenAiServer.start(llm, config, line -> {
                err.println(line);
                err.flush();
            });
            log = server.log();
            log.info(String.format("pagoda serve: %s on %s/v1 (max model length %d, KV cache %d token slots, %s layout, %d compute threads)",
                    name, server.baseUrl(), llm.engine().maxModelLen(), llm.engine().kvCacheSlots(), llm.engine().config().kvLayout(), threads));
            log.info("pagoda serve: " + warmUp);
            log.info("pagoda serve: " + ServerHeap.configure(server.maxBodyBytes()));
            stop.await();
            log.info("pagoda serve: shutting down, letting running requests finish (up to " + shutdownTimeout + " s)");
            server.shutdown();
        }
        log.info("pagoda serve: stopped");
        return 0;
    }

    /** --compute-threads, or the cores but one (at least 1). */
    static int computeThreads(Integer option, int cores) {
        if (option == null) {
            return Math.max(1, cores - 1);
        }
        if (option < 1) {
            throw new PagodaException("--compute-threads must be at least 1, got " + option);
        }
        return option;
    }
}
