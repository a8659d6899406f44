package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pagoda.Await;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.EngineGate;
import dev.pagoda.engine.FinishReason;
import dev.pagoda.engine.KvBlockMap;
import dev.pagoda.engine.LLMEngine;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.kv.KvMemoryUsage;
import dev.pagoda.sampling.SamplingParams;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 64 concurrent streaming clients against a KV cache too small for them (preemption happens), some hanging up
 * midway: every completed request equals its solo output (greedy, and seeded sampling), none is lost or duplicated,
 * every hung-up request is aborted, and afterwards every KV block is free. Nothing asserted depends on how fast the
 * engine runs against the clients: the first requests of all clients are admitted at one step boundary (so the small
 * cache preempts), and a hung-up request is held one token before its end until its abort is posted.
 */
class ServerLoadTest {
    private static final String[] PROMPTS = {
            "Once upon a time", "Lily wanted to", "The little dog", "One day, Tom", "There was a big tree",
            "Sam and Mia went", "The sun was", "A cat named"};
    private static final int CLIENTS = 64;
    /** Each client streams request after request until the deadline. */
    private static final int ROUNDS = Integer.MAX_VALUE;
    private static final int MAX_TOKENS = 16;
    /** The hung-up requests' prompt: longer than any other request gets, so that the block map tells them apart. */
    private static final String HANG_UP_PROMPT = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park "
            + "with her friends and her big red ball.";
    /** Clients stop starting new requests after 30 s, as the load test asks. */
    private static final long DEADLINE_NANOS = 30_000_000_000L;

    private record Kind(boolean seeded) {
        /** Seeded requests draw with a seed of their prompt's, so one solo run per prompt is their reference. */
        SamplingParams params(int prompt) {
            SamplingParams.Builder b = SamplingParams.builder().maxTokens(MAX_TOKENS).ignoreEos(true);
            return seeded ? b.temperature(0.8f).seed(1000L + prompt).build() : b.temperature(0).build();
        }

        String json(int prompt) {
            return json(PROMPTS[prompt], prompt);
        }

        String json(String text, int prompt) {
            return "{\"prompt\": \"" + text + "\", \"max_tokens\": " + MAX_TOKENS + ", \"ignore_eos\": true, \"stream\": true, "
                    + "\"stream_options\": {\"include_usage\": true}, "
                    + (seeded ? "\"temperature\": 0.8, \"seed\": " + (1000 + prompt) : "\"temperature\": 0") + "}";
        }
    }

    @Test
    void concurrentStreamsUnderPreemptionAreCorrectAndFreeEveryBlock() throws Exception {
        // 24 blocks of 16 slots (1280 bytes a slot): 64 requests of ~22 tokens need ~128 blocks, so the scheduler must
        // preempt (with vLLM's admission: growth room would keep a block for each and avoid it).
        EngineConfig engine = EngineConfig.builder().maxModelLen(128).blockSize(16).kvCacheMemory(24L * 16 * 1280).growthRoom(false)
                .build();
        try (ServerFixture fx = new ServerFixture(engine, ServerConfig.loopback(ServerFixture.MODEL))) {
            // Solo references, one request at a time through the same engine.
            Map<String, String> solo = new ConcurrentHashMap<>();
            for (int p = 0; p < PROMPTS.length; p++) {
                for (Kind k : List.of(new Kind(false), new Kind(true))) {
                    RequestResult r = fx.llm.generate(List.of(PROMPTS[p]), k.params(p)).get(0);
                    solo.put(k.seeded() + " " + p, r.output().text());
                }
            }
            long before = fx.llm.engine().stats().requestsAdded();

            AtomicInteger sent = new AtomicInteger();
            AtomicInteger completed = new AtomicInteger();
            AtomicInteger hungUp = new AtomicInteger();
            Set<String> ids = ConcurrentHashMap.newKeySet();
            Set<String> aborted = ConcurrentHashMap.newKeySet();
            holdHungUpRequestsBeforeTheirEnd(fx, aborted);
            long start = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            List<Future<?>> clients = new ArrayList<>();
            EngineGate gate = new EngineGate(fx.llm.engine());
            try {
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    clients.add(pool.submit(() -> {
                        for (int round = 0; round < ROUNDS && System.nanoTime() - start < DEADLINE_NANOS; round++) {
                            int prompt = (client + round) % PROMPTS.length;
                            Kind kind = new Kind(client % 2 == 1);
                            sent.incrementAndGet();
                            if ((client + round) % 8 == 3) {
                                hungUp.incrementAndGet();
                                Http.streamThenHangUp(fx.server.port(), "/v1/completions", kind.json(HANG_UP_PROMPT, prompt), 3);
                                continue;
                            }
                            HttpResponse<String> r = Http.post(fx.url("/v1/completions"), kind.json(prompt));
                            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                            List<JsonNode> events = Http.events(r.body());
                            JsonNode usage = events.getLast().get("usage");
                            assertThat(usage.get("completion_tokens").asInt()).isEqualTo(MAX_TOKENS);
                            Set<String> chunkIds = new HashSet<>();
                            int finishes = 0;
                            for (JsonNode e : events) {
                                chunkIds.add(e.get("id").asText());
                                for (JsonNode ch : e.get("choices")) {
                                    finishes += ch.get("finish_reason").isNull() ? 0 : 1;
                                }
                            }
                            assertThat(chunkIds).hasSize(1);
                            assertThat(ids.add(chunkIds.iterator().next())).as("response id used twice").isTrue();
                            assertThat(finishes).isEqualTo(1);
                            assertThat(Http.text(events)).as("client %d round %d (%s)", client, round, kind)
                                    .isEqualTo(solo.get(kind.seeded() + " " + prompt));
                            completed.incrementAndGet();
                        }
                        return null;
                    }));
                }
                // Every client's first request is admitted at one step boundary: more than the cache holds run at once.
                Await.until(() -> fx.server.waiting() == CLIENTS, "every client's first request to be admitted");
            } finally {
                gate.close();
            }
            for (Future<?> f : clients) {
                f.get();
            }
            pool.shutdown();

            fx.llm.engine().awaitIdle();
            var stats = fx.llm.engine().stats();
            assertThat(stats.requestsAdded() - before).as("every request reached the engine once").isEqualTo(sent.get());
            long finished = stats.finished().values().stream().mapToLong(Long::longValue).sum();
            assertThat(finished).as("every request finished once").isEqualTo(stats.requestsAdded());
            long abortedCount = stats.finished().getOrDefault(FinishReason.ABORT, 0L);
            assertThat(abortedCount).as("every hung-up request was aborted, no other").isEqualTo(hungUp.get());
            assertThat(aborted).hasSize(hungUp.get());
            assertThat(completed.get() + hungUp.get()).isEqualTo(sent.get());
            assertThat(stats.preemptions()).as("the small KV cache forced preemption").isPositive();
            KvMemoryUsage kv = fx.llm.engine().kvUsage();
            assertThat(kv.blocksUsed()).as("blocks still in use").isZero();
            assertThat(kv.freeSlots()).isEqualTo(kv.totalSlots());
            assertThat(fx.server.metricsText()).contains("pagoda:kv_cache_blocks{model_name=\"stories260K\",state=\"used\"} 0");
        }
    }

    /**
     * After each step, holds the engine while a hung-up request is one token short of its end, until its abort has been
     * posted: however fast the engine, no hung-up request completes before its client is seen gone. The block map,
     * published after every step while watched, gives the sequences' lengths; only hung-up requests get this long.
     */
    private static void holdHungUpRequestsBeforeTheirEnd(ServerFixture fx, Set<String> aborted) {
        int hangUpPrompt = fx.llm.model().tokenizer().encode(HANG_UP_PROMPT, true, false).length;
        for (String p : PROMPTS) {
            assertThat(fx.llm.model().tokenizer().encode(p, true, false).length + MAX_TOKENS).as(p).isLessThan(hangUpPrompt);
        }
        LLMEngine engine = fx.llm.engine();
        engine.watchBlockMap();
        engine.setAbortHook(aborted::add);
        engine.setStepHook(() -> {
            Set<String> nearTheEnd = new HashSet<>();
            KvBlockMap map = engine.acquireBlockMap();
            if (map == null) {
                return;
            }
            try {
                // Slots hold the prompt and every sampled token but the newest: the next step samples the last one.
                for (int s = 0; s < map.sequences(); s++) {
                    if (map.sequenceLength(s) >= hangUpPrompt + MAX_TOKENS - 2) {
                        nearTheEnd.add(map.requestId(s));
                    }
                }
            } finally {
                map.release();
            }
            try {
                Await.until(() -> aborted.containsAll(nearTheEnd), "the aborts of hung-up requests " + nearTheEnd);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
