package dev.pagoda.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pagoda.engine.BlockMapPublisher;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.kv.KvLayout;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web page and the KV block map over HTTP: the page is public and self-contained, the map follows the API
 * key, shows a held request's sequences, shared and copied blocks and (contiguous) its reservation, agrees with
 * /metrics, and the stream carries maps and counters until the server drains.
 */
class KvMapEndpointsTest {
    private static final EngineConfig ENGINE = EngineConfig.builder().maxModelLen(256).kvCacheMemory(4L << 20).build();
    private static final String PROMPT = "Once upon a time there was a little girl named Lily. She loved to play in the park with her ball.";

    private static JsonNode blocks(ServerFixture fx, String... headers) {
        HttpResponse<String> r = Http.get(fx.url("/v1/kv/blocks"), headers);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.json(r.body());
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    private static CompletableFuture<HttpResponse<String>> complete(ServerFixture fx, String body) {
        HttpRequest r = HttpRequest.newBuilder(URI.create(fx.url("/v1/completions"))).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return Http.CLIENT.sendAsync(r, HttpResponse.BodyHandlers.ofString());
    }

    private static int promptTokens(ServerFixture fx, String... headers) {
        return Http.json(Http.post(fx.url("/tokenize"), "{\"prompt\": \"" + PROMPT + "\"}", headers).body()).get("count").asInt();
    }

    @Test
    void thePageIsPublicAndSelfContainedAndTheMapFollowsTheApiKey() {
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL).toBuilder().apiKey("k").build())) {
            HttpResponse<String> page = Http.get(fx.url("/"));
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("default-src 'none'", "connect-src 'self'");
            assertThat(page.body()).contains("<canvas id=\"block-map\"", "sessionStorage", "Authorization")
                    .doesNotContain("src=\"http", "href=\"http", "@import");
            assertThat(Http.get(fx.url("/v1/kv/blocks")).statusCode()).isEqualTo(401);
            assertThat(Http.get(fx.url("/v1/kv/stream")).statusCode()).isEqualTo(401);
            JsonNode map = blocks(fx, "Authorization", "Bearer k");
            assertThat(map.get("layout").asText()).isEqualTo("paged");
            assertThat(map.get("num_blocks").asInt()).isEqualTo(fx.llm.engine().kvCacheSlots() / 16);
            assertThat(map.get("blocks").get("ref_count").size()).isEqualTo(map.get("num_blocks").asInt());
            assertThat(Http.post(fx.url("/v1/kv/blocks"), "{}", "Authorization", "Bearer k").statusCode()).isEqualTo(405);
        }
    }

    @Test
    void aHeldRequestsSamplesShareTheirPromptBlocksAndTheMapAgreesWithMetrics() throws Exception {
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL))) {
            int prompt = promptTokens(fx);
            assertThat(prompt).as("a full block and a partly filled one").isBetween(17, 31);
            CompletableFuture<HttpResponse<String>> done;
            // Watched, the engine publishes a map after every step: the one a held engine shows.
            try (BlockMapPublisher.Watch watch = fx.llm.engine().watchBlockMap(); StepGate gate = new StepGate(fx.llm.engine(), 2)) {
                done = complete(fx, "{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 20, \"n\": 4, \"temperature\": 1, \"seed\": 3, \"ignore_eos\": true}");
                gate.awaitHeld();
                JsonNode map = blocks(fx);
                JsonNode seqs = map.get("sequences");
                assertThat(seqs.get("request_id").size()).isEqualTo(4);
                for (JsonNode id : seqs.get("request_id")) {
                    assertThat(id.asText()).startsWith("cmpl-").endsWith("-0");
                }
                assertThat(ints(seqs.get("index"))).containsExactlyInAnyOrder(0, 1, 2, 3);
                assertThat(ints(seqs.get("length"))).containsOnly(prompt + 1);
                int[] ref = ints(map.get("blocks").get("ref_count"));
                int[] flags = ints(map.get("blocks").get("flags"));
                // Block 0 of the prompt is full and shared by the four samples; its last block was copied on write
                // by three of them in step 2, the fourth kept the original.
                JsonNode owners = map.get("owners");
                int[] ownerBlock = ints(owners.get("block"));
                int shared = ownerBlock[0];
                assertThat(ref[shared]).isEqualTo(4);
                List<String> onShared = new ArrayList<>();
                for (int i = 0; i < ownerBlock.length; i++) {
                    if (ownerBlock[i] == shared) {
                        onShared.add(owners.get("first_position").get(i).asInt() + "+" + owners.get("tokens").get(i).asInt());
                    }
                }
                assertThat(onShared).containsExactly("0+16", "0+16", "0+16", "0+16");
                int copied = 0;
                int used = 0;
                for (int b = 0; b < ref.length; b++) {
                    copied += (flags[b] & 2) != 0 ? 1 : 0;
                    used += ref[b] > 0 ? 1 : 0;
                }
                assertThat(copied).isEqualTo(3);
                assertThat(used).isEqualTo(1 + 4);
                assertThat(map.get("kv_cache").get("blocks").get("shared").asInt()).isEqualTo(1);
                assertThat(map.get("kv_cache").get("sequence_tokens").asInt()).isEqualTo(4 * (prompt + 1));
            }
            assertThat(done.get().statusCode()).isEqualTo(200);
            fx.llm.engine().awaitIdle();
            JsonNode idle = blocks(fx);
            assertThat(ints(idle.get("blocks").get("ref_count"))).containsOnly(0);
            assertThat(idle.get("sequences").get("request_id").size()).isZero();
            int cached = 0;
            for (int b = 0; b < idle.get("num_blocks").asInt(); b++) {
                if ((idle.get("blocks").get("flags").get(b).asInt() & 1) != 0) {
                    cached++;
                    assertThat(idle.get("blocks").get("eviction_rank").get(b).asInt()).isNotNegative();
                }
            }
            assertThat(cached).as("the prompt's full block stays cached").isPositive();
            String metrics = fx.server.metricsText();
            JsonNode kv = idle.get("kv_cache");
            assertThat(metrics).contains("state=\"token\"} " + kv.get("slots").get("token").asLong(),
                    "state=\"free\"} " + kv.get("slots").get("free").asLong(), "state=\"used\"} " + kv.get("blocks").get("used").asLong());
        }
    }

    @Test
    void theContiguousMapShowsTheReservationAndTheFreeRun() throws Exception {
        EngineConfig contiguous = ENGINE.toBuilder().kvLayout(KvLayout.CONTIGUOUS).build();
        try (ServerFixture fx = new ServerFixture(contiguous, ServerConfig.loopback(ServerFixture.MODEL))) {
            int prompt = promptTokens(fx);
            CompletableFuture<HttpResponse<String>> done;
            try (BlockMapPublisher.Watch watch = fx.llm.engine().watchBlockMap(); StepGate gate = new StepGate(fx.llm.engine(), 1)) {
                done = complete(fx, "{\"prompt\": \"" + PROMPT + "\", \"max_tokens\": 30, \"ignore_eos\": true}");
                gate.awaitHeld();
                JsonNode map = blocks(fx);
                assertThat(map.get("layout").asText()).isEqualTo("contiguous");
                JsonNode res = map.get("reservations");
                assertThat(ints(res.get("base_slot"))).containsExactly(0);
                assertThat(ints(res.get("slots"))).containsExactly(prompt + 30);
                int length = res.get("length").get(0).asInt();
                assertThat(length).as("the prompt, prefilled in step 1").isEqualTo(prompt);
                int tokens = 0;
                int reserved = 0;
                for (int b = 0; b < map.get("num_blocks").asInt(); b++) {
                    tokens += map.get("blocks").get("token_slots").get(b).asInt();
                    reserved += map.get("blocks").get("reserved_slots").get(b).asInt();
                }
                assertThat(tokens).isEqualTo(length);
                assertThat(reserved).isEqualTo(prompt + 30 - length);
                assertThat(map.get("kv_cache").get("slots").get("reserved").asInt()).isEqualTo(reserved);
                JsonNode holes = map.get("holes");
                assertThat(ints(holes.get("start_slot"))).containsExactly(prompt + 30);
                assertThat(holes.get("external").get(0).asBoolean()).isFalse();
            }
            assertThat(done.get().statusCode()).isEqualTo(200);
            fx.llm.engine().awaitIdle();
            assertThat(blocks(fx).get("reservations").get("slots").size()).isZero();
        }
    }

    @Test
    void theStreamCarriesMapsAndCountersUntilTheServerDrains() throws Exception {
        try (ServerFixture fx = new ServerFixture(ENGINE, ServerConfig.loopback(ServerFixture.MODEL))) {
            HttpRequest get = HttpRequest.newBuilder(URI.create(fx.url("/v1/kv/stream"))).GET().build();
            HttpResponse<Stream<String>> r = Http.CLIENT.send(get, HttpResponse.BodyHandlers.ofLines());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/event-stream");
            Iterator<String> lines = r.body().iterator();
            List<String> objects = new ArrayList<>();
            while (!(objects.contains("kv.block_map") && objects.contains("engine.stats"))) {
                String line = lines.next();
                if (line.startsWith("data: ")) {
                    objects.add(Http.json(line.substring(6)).get("object").asText());
                }
            }
            assertThat(Http.post(fx.url("/v1/completions"), "{\"prompt\": \"Once\", \"max_tokens\": 4}").statusCode()).isEqualTo(200);
            CompletableFuture<Void> shutdown = CompletableFuture.runAsync(fx.server::shutdown);
            String last = null;
            while (lines.hasNext()) {
                String line = lines.next();
                if (!line.isEmpty()) {
                    last = line;
                }
            }
            assertThat(last).as("the stream ends when the server drains").isEqualTo("data: [DONE]");
            shutdown.join();
        }
    }
}
