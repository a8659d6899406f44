package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pagoda.Await;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.EngineGate;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The server's log (issue 13, item 5): access lines, the JSON format, the stats line while busy only, level filtering. */
class ServerLogTest {
    private static final EngineConfig ENGINE = EngineConfig.builder().maxModelLen(256).kvCacheMemory(4L << 20).build();

    private static ServerConfig config(ServerLog.Level level, ServerLog.Format format, Duration stats) {
        return ServerConfig.loopback(ServerFixture.MODEL).toBuilder().logging(level, format, stats).build();
    }

    private static List<String> lines(List<String> log, String logger) {
        return log.stream().filter(l -> l.contains("[" + logger + "]")).toList();
    }

    @Test
    void oneAccessLinePerRequestWithItsFields() {
        List<String> log = new CopyOnWriteArrayList<>();
        int prompt;
        try (ServerFixture fx = new ServerFixture(ENGINE, config(ServerLog.Level.INFO, ServerLog.Format.TEXT, Duration.ZERO), log::add)) {
            HttpResponse<String> r = Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Once upon a time\", \"max_tokens\": 5, "
                    + "\"temperature\": 0, \"n\": 2}", "x-request-id", "my-id-1");
            assertThat(r.headers().firstValue("x-request-id")).contains("my-id-1");
            prompt = Http.json(r.body()).get("usage").get("prompt_tokens").asInt();
            Http.post(fx.url("/v1/nothing"), "{}");
            Http.get(fx.url("/health"));
        }
        // Read once the server has stopped: an access line is written after its response, so a client can be faster.
        List<String> access = lines(log, "access");
        assertThat(access).hasSize(2);
        assertThat(access.get(0)).startsWith("INFO ").contains(" request_id=my-id-1 ", " route=\"POST /v1/completions\" ",
                " status=200 ", " prompt_tokens=" + prompt + " ", " output_tokens=10 ", " finish_reason=length ", " client=127.0.0.1:")
                .containsPattern(" queue_s=\\d+\\.\\d{3} ttft_s=\\d+\\.\\d{3} duration_s=\\d+\\.\\d{3} ");
        assertThat(access.get(1)).contains(" route=\"POST /v1/nothing\" status=404 prompt_tokens=- ", " finish_reason=- ")
                .containsPattern(" request_id=[0-9a-f]{32} ");
    }

    @Test
    void jsonLinesParseWithTypedFields() {
        List<String> log = new CopyOnWriteArrayList<>();
        try (ServerFixture fx = new ServerFixture(ENGINE, config(ServerLog.Level.INFO, ServerLog.Format.JSON, Duration.ZERO), log::add)) {
            List<JsonNode> events = Http.events(Http.post(fx.url("/v1/chat/completions"), "{\"messages\": [{\"role\": \"user\", "
                    + "\"content\": \"Hi\"}], \"max_tokens\": 4, \"stream\": true}").body());
            assertThat(events).isNotEmpty();
            fx.server.log().info("hello");
        }
        assertThat(log).isNotEmpty().allSatisfy(l -> assertThat(Http.json(l).get("level").asText()).isIn("info", "warn"));
        JsonNode access = log.stream().map(Http::json).filter(j -> j.get("logger").asText().equals("access")).findFirst().orElseThrow();
        assertThat(access.get("route").asText()).isEqualTo("POST /v1/chat/completions");
        assertThat(access.get("status").isInt()).isTrue();
        assertThat(access.get("status").asInt()).isEqualTo(200);
        assertThat(access.get("output_tokens").asInt()).isEqualTo(4);
        assertThat(access.get("prompt_tokens").asInt()).isPositive();
        assertThat(access.get("ttft_s").isNumber()).isTrue();
        assertThat(access.get("queue_s").asDouble()).isLessThanOrEqualTo(access.get("ttft_s").asDouble());
        assertThat(access.get("duration_s").asDouble()).isGreaterThanOrEqualTo(access.get("ttft_s").asDouble());
        assertThat(access.get("finish_reason").asText()).isEqualTo("length");
        assertThat(access.get("time").asText()).endsWith("Z");
        assertThat(log.stream().map(Http::json).filter(j -> j.path("message").asText().equals("hello"))).hasSize(1);
    }

    /**
     * Logged at DEBUG, every tick writes a line, so the test counts ticks rather than waiting a while: an idle server's
     * lines are DEBUG ones, a waiting request's INFO; once the engine has published its last counts, the next tick shows
     * the work's throughput (or the one after, which is INFO as the last busy one's successor), and from the third on
     * they are DEBUG again.
     */
    @Test
    void statsLineWhileBusyNotWhileIdle() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        try (ServerFixture fx = new ServerFixture(ENGINE, config(ServerLog.Level.DEBUG, ServerLog.Format.TEXT, Duration.ofMillis(100)), log::add)) {
            Await.until(() -> lines(log, "stats").size() >= 2, "two stats lines of the idle server");
            assertThat(lines(log, "stats")).as("an idle server writes its stats lines at DEBUG").allSatisfy(l -> assertThat(l).startsWith("DEBUG "));
            CompletableFuture<HttpResponse<String>> running;
            try (EngineGate gate = new EngineGate(fx.llm.engine())) {
                running = Http.CLIENT.sendAsync(HttpRequest.newBuilder(URI.create(fx.url("/v1/completions"))).POST(
                        HttpRequest.BodyPublishers.ofString("{\"prompt\": \"Once upon a time\", \"max_tokens\": 8}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                Await.until(() -> !info(log).isEmpty(), "a stats line while a request waits");
            }
            assertThat(info(log).getFirst()).contains(" prompt_tokens_per_s=", " generation_tokens_per_s=",
                    " running=", " waiting=", " swapped=", " kv_cache_usage_perc=", " prefix_cache_hit_rate_perc=");
            assertThat(running.get().statusCode()).isEqualTo(200);
            fx.llm.engine().awaitIdle();
            // Published when the engine went idle: every tick that starts from now on reads the final counts.
            assertThat(fx.llm.engine().metrics().stats().generationTokens()).isEqualTo(8);
            int counted = lines(log, "stats").size() + 1; // the tick under way may have read the counts before
            Await.until(() -> lines(log, "stats").size() >= counted + 3, "three stats lines after the work");
            List<String> after = lines(log, "stats").subList(counted + 2, lines(log, "stats").size());
            assertThat(after).as("once idle, the lines are DEBUG again").allSatisfy(l -> assertThat(l).startsWith("DEBUG "));
            assertThat(info(log)).anySatisfy(l -> assertThat(l).doesNotContain("generation_tokens_per_s=0.000"));
        }
    }

    private static List<String> info(List<String> log) {
        return lines(log, "stats").stream().filter(l -> l.startsWith("INFO ")).toList();
    }

    @Test
    void levelFiltersLines() {
        List<String> warn = new CopyOnWriteArrayList<>();
        try (ServerFixture fx = new ServerFixture(ENGINE, config(ServerLog.Level.WARN, ServerLog.Format.TEXT, Duration.ZERO)
                .toBuilder().maxBodyBytes(4096).build(), warn::add)) {
            Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Hi\", \"max_tokens\": 1}");
            Http.post(fx.url("/v1/completions"), "{\"prompt\": \"" + "x".repeat(5000) + "\"}");
        }
        assertThat(warn).hasSize(1).allSatisfy(l -> assertThat(l).startsWith("WARN ").contains("[server] refused (body_too_large)"));

        List<String> debug = new CopyOnWriteArrayList<>();
        List<String> info = new CopyOnWriteArrayList<>();
        for (List<String> log : List.of(debug, info)) {
            ServerLog.Level level = log == debug ? ServerLog.Level.DEBUG : ServerLog.Level.INFO;
            try (ServerFixture fx = new ServerFixture(ENGINE, config(level, ServerLog.Format.TEXT, Duration.ZERO), log::add)) {
                Http.get(fx.url("/health"));
                Http.get(fx.url("/version"));
            }
        }
        assertThat(lines(debug, "access")).hasSize(2).anySatisfy(l -> assertThat(l).startsWith("DEBUG ").contains("route=\"GET /health\""));
        assertThat(lines(info, "access")).hasSize(1).allSatisfy(l -> assertThat(l).startsWith("INFO ").contains("route=\"GET /version\""));
    }
}
