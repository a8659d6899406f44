package dev.pagoda.server;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import dev.pagoda.TestData;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.LLM;
import dev.pagoda.model.ModelLoader;
import java.util.function.Consumer;

/** stories260K behind a server on a free loopback port; closes both. */
final class ServerFixture implements AutoCloseable {
    static final String MODEL = "stories260K";

    final LLM llm;
    final OpenAiServer server;

    ServerFixture(EngineConfig engine, ServerConfig config) {
        this(engine, config, System.err::println);
    }

    /** With the server's log lines going to {@code log}. */
    ServerFixture(EngineConfig engine, ServerConfig config, Consumer<String> log) {
        this.llm = LLM.of(ModelLoader.open(TestData.path("models/stories260K/stories260K.bin")), engine);
        this.server = OpenAiServer.start(llm, config, log);
    }

    static ServerFixture start() {
        return new ServerFixture(EngineConfig.builder().maxModelLen(256).kvCacheMemory(4L << 20).build(), ServerConfig.loopback(MODEL));
    }

    /** The official OpenAI client pointed at this server (no key, no retries: a failure shows at once). */
    OpenAIClient openAiClient() {
        return OpenAIOkHttpClient.builder().baseUrl(url("/v1")).apiKey("unused").maxRetries(0).build();
    }

    String url(String path) {
        return server.baseUrl() + path;
    }

    @Override
    public void close() {
        try {
            server.close();
        } finally {
            llm.close();
        }
    }
}
