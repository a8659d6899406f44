package dev.pagoda.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.TestData;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.LLM;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import dev.pagoda.server.OpenAiServer;
import dev.pagoda.server.ServerConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ServeBenchTest {

    private static ServeBenchRequest.Outcome ok(double ttft, double latency, int tokens, double... itls) {
        return new ServeBenchRequest.Outcome(10, 0, ttft, itls, latency, tokens, null);
    }

    @Test
    void metricsAsVllmComputesThem() {
        List<ServeBenchRequest.Outcome> outcomes = List.of(
                ok(0.1, 1.1, 11, 0.1, 0.1),
                ok(0.3, 0.7, 5, 0.1, 0.3),
                ok(0.2, 0.2, 1),
                ServeBenchRequest.Outcome.failed(7, 0, "HTTP 503"));
        ServeBenchResult r = new ServeBenchResult(new ServeBench.Run(outcomes, 2.0), Map.of("tpot", 90.0), Map.of());
        assertThat(r.completed).isEqualTo(3);
        assertThat(r.failed).isEqualTo(1);
        assertThat(r.inputTokens).isEqualTo(30);
        assertThat(r.outputTokens).isEqualTo(17);
        assertThat(r.requestThroughput()).isEqualTo(1.5);
        assertThat(r.outputThroughput()).isEqualTo(8.5);
        // TPOT: (1.1 - 0.1) / 10 = 100 ms and (0.7 - 0.3) / 4 = 100 ms; the 1-token request has none.
        assertThat(r.tpot.mean()).isCloseTo(100, within(1e-9));
        assertThat(r.ttft.median()).isCloseTo(200, within(1e-9));
        assertThat(r.ttft.p90()).isCloseTo(280, within(1e-9));
        assertThat(r.itl.mean()).isCloseTo(150, within(1e-9));
        // Goodput against tpot <= 90 ms: only the single-token request (TPOT 0) meets it.
        assertThat(r.goodput()).isEqualTo(0.5);
        assertThat(r.table()).contains("Successful requests:").contains("P99 ITL (ms):").contains("Request goodput (req/s):");
    }

    @Test
    void benchmarksALiveServer() throws Exception {
        try (LLM llm = LLM.of(ModelLoader.open(TestData.path("models/stories260K/stories260K.bin")),
                EngineConfig.builder().maxModelLen(256).kvCacheMemory(4L << 20).build());
             OpenAiServer server = OpenAiServer.start(llm, ServerConfig.loopback("stories260K"))) {
            ServeBench bench = new ServeBench(new ServeBench.Options(URI.create(server.baseUrl() + "/"), "/v1/completions", null, null, 50, 1,
                    3, 1), llm.model().tokenizer());
            ServeBench.ServerInfo info = bench.probe();
            assertThat(info.model()).isEqualTo("stories260K");
            assertThat(info.maxModelLen()).isEqualTo(256);
            assertThat(info.root()).as("where the server loaded the model from").endsWith("stories260K.bin");
            List<ServeBenchRequest> requests = bench.requests(SyntheticWorkload.ALPACA.generate(6, 1, 64), 1);
            bench.warmUp(info.model(), requests.getFirst());
            AtomicInteger progress = new AtomicInteger();
            ServeBench.Run run = bench.run(info.model(), requests, i -> progress.incrementAndGet());
            assertThat(progress.get()).isEqualTo(6);
            ServeBenchResult r = new ServeBenchResult(run, Map.of(), Map.of("Workload", "alpaca"));
            assertThat(r.failed).isZero();
            assertThat(r.outputTokens).isEqualTo(requests.stream().mapToLong(ServeBenchRequest::outputTokens).sum());
            assertThat(r.inputTokens).isEqualTo(requests.stream().mapToLong(q -> q.prompt().length).sum());
            Path dir = TestData.scratch("bench-serve");
            Path png = dir.resolve("latency.png");
            r.plot(png);
            assertThat(Files.size(png)).isPositive();
            JsonNode json = new ObjectMapper().readTree(r.json());
            assertThat(json.get("completed").asInt()).isEqualTo(6);
            assertThat(json.get("itls")).hasSize(6);
            assertThat(json.get("mean_ttft_ms").asDouble()).isPositive();
        }
    }

    /**
     * Any OpenAI-compatible server: one with no /tokenize, no max_model_len and no usage chunk (as a plain proxy or an
     * older llama-server) is benchmarked with the local tokenizer's counts, the prompts being its token ids.
     */
    @Test
    void benchmarksAServerWithoutTokenizeOrLimits() throws InterruptedException {
        try (FakeOpenAiServer fake = new FakeOpenAiServer("stories260K");
             Model local = ModelLoader.open(TestData.path("models/stories260K/stories260K.bin"))) {
            ServeBench bench = new ServeBench(new ServeBench.Options(URI.create(fake.baseUrl()), "/v1/completions", null, null,
                    Double.POSITIVE_INFINITY, 1, 0, 3), local.tokenizer());
            ServeBench.ServerInfo info = bench.probe();
            assertThat(info).isEqualTo(new ServeBench.ServerInfo("stories260K", 0));
            // A model named but listed under another name (llama-server's file alias) is taken at its word.
            assertThat(new ServeBench(new ServeBench.Options(URI.create(fake.baseUrl()), "/v1/completions", "org/other", null, 1, 1, 0, 3),
                    local.tokenizer()).probe()).isEqualTo(new ServeBench.ServerInfo("org/other", 0));
            List<ServeBenchRequest> requests = bench.requests(List.of(new SyntheticWorkload.Request(20, 9), new SyntheticWorkload.Request(7, 9)), 3);
            ServeBench.Run run = bench.run(info.model(), requests, i -> { });
            ServeBenchResult r = new ServeBenchResult(run, Map.of(), Map.of());
            assertThat(r.failed).isZero();
            int replyTokens = local.tokenizer().encode(FakeOpenAiServer.REPLY, false, false).length;
            assertThat(replyTokens).isNotEqualTo(3);
            assertThat(r.outputTokens).as("counted by the local tokenizer, not by chunks").isEqualTo(2L * replyTokens);
            assertThat(r.inputTokens).isEqualTo(27);
            assertThat(fake.received).hasSize(2).allSatisfy(b -> {
                assertThat(b.get("model").asText()).isEqualTo("stories260K");
                assertThat(b.get("prompt").isArray()).isTrue();
                assertThat(b.get("stream").asBoolean()).isTrue();
            });
            // The prompts are the local tokenizer's ids of the benchmark text, the same for any server with the same seed.
            assertThat(fake.received.stream().mapToInt(b -> b.get("prompt").size()).sorted().toArray()).containsExactly(7, 20);
            assertThat(bench.requests(List.of(new SyntheticWorkload.Request(20, 9)), 3).getFirst().prompt()).isEqualTo(requests.getFirst().prompt());
        }
    }
}
