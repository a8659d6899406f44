package dev.pagoda.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.Await;
import dev.pagoda.TestData;
import dev.pagoda.engine.BlockMapPublisher;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.FinishReason;
import dev.pagoda.engine.KvBlockMap;
import dev.pagoda.engine.LLM;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import dev.pagoda.server.OpenAiServer;
import dev.pagoda.server.ServerConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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

    @Test
    void clientsAskingForTheRestOfTheContextLeaveAtTheirLength() throws Exception {
        try (LLM llm = LLM.of(ModelLoader.open(TestData.path("models/stories260K/stories260K.bin")),
                EngineConfig.builder().maxModelLen(128).kvCacheMemory(4L << 20).kvLayout(KvLayout.CONTIGUOUS).build());
             OpenAiServer server = OpenAiServer.start(llm, ServerConfig.loopback("stories260K"));
             BlockMapPublisher.Watch lengths = llm.engine().watchBlockMap()) {
            ServeBench bench = new ServeBench(new ServeBench.Options(URI.create(server.baseUrl() + "/"), "/v1/completions", null, null, 50, 1, 0, 1),
                    llm.model().tokenizer());
            ServeBench.ServerInfo info = bench.probe();
            List<ServeBenchRequest> requests = bench.requests(SyntheticWorkload.ALPACA.generate(4, 2, 64), 2).stream()
                    .map(r -> r.askingForTheRest(info.maxModelLen())).toList();
            assertThat(requests).allSatisfy(r -> assertThat(r.maxTokens()).isEqualTo(128 - r.prompt().length).isGreaterThan(r.outputTokens()));
            holdBeforeTheLastToken(llm, info.maxModelLen());
            ServeBench.Run run = bench.run(info.model(), requests, i -> { });
            for (int i = 0; i < requests.size(); i++) {
                ServeBenchRequest.Outcome o = run.outcomes().get(i);
                assertThat(o.success()).as(o.error()).isTrue();
                assertThat(o.outputTokens()).isEqualTo(requests.get(i).outputTokens());
                assertThat(o.itls()).hasSize(requests.get(i).outputTokens() - 1);
            }
            // Each client left at its length; the server aborted its request and freed its reservation.
            llm.engine().awaitIdle();
            assertThat(llm.engine().kvUsage().sequences()).isZero();
            assertThat(llm.engine().stats().finished()).containsEntry(FinishReason.ABORT, (long) requests.size())
                    .doesNotContainKey(FinishReason.LENGTH);
        }
    }

    /**
     * However fast the engine, a request must not reach its length before its client (who leaves earlier) is seen
     * gone: after the step that leaves a sequence one token short of the context, the engine is held until that
     * request's abort has been posted (the abort then runs before the next step). A hold past the hang guard fails the
     * engine's step, and the assertions say what happened. The block map, published after each step while watched, gives the sequences'
     * lengths; the engine's abort hook names each request aborted (a count of disconnects also counts clients that
     * left early, and let a hold end before the request held for was aborted: CI saw a request finish at its length).
     */
    private static void holdBeforeTheLastToken(LLM llm, int contextLength) {
        Set<String> aborted = ConcurrentHashMap.newKeySet();
        llm.engine().setAbortHook(aborted::add);
        llm.engine().setStepHook(() -> {
            Set<String> nearTheEnd = new HashSet<>();
            KvBlockMap map = llm.engine().acquireBlockMap();
            if (map == null) {
                return;
            }
            try {
                // Slots hold the prompt and all sampled tokens but the newest: contextLength - 2 slots means the next
                // step samples the last token.
                for (int s = 0; s < map.sequences(); s++) {
                    if (map.sequenceLength(s) >= contextLength - 2) {
                        nearTheEnd.add(map.requestId(s));
                    }
                }
            } finally {
                map.release();
            }
            try {
                Await.until(() -> aborted.containsAll(nearTheEnd), "the aborts of " + nearTheEnd);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
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
