package dev.pagoda.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.service.AiServices;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LangChain4j AiServices against the server: a @Tool method gets called, and a record comes back valid. */
class LangChain4jTest {
    private static ServerFixture fx;

    @BeforeAll
    static void start() {
        fx = ServerFixture.start();
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    private static OpenAiChatModel model(int maxTokens) {
        return OpenAiChatModel.builder().baseUrl(fx.url("/v1")).apiKey("unused").modelName(ServerFixture.MODEL)
                .temperature(1.0).seed(3).maxTokens(maxTokens).maxRetries(0).parallelToolCalls(false)
                .supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).strictJsonSchema(true).build();
    }

    public enum Sky { SUNNY, CLOUDY, RAINY }

    public record Forecast(Sky sky, boolean windy, int celsius) {
    }

    interface Forecaster {
        Forecast forecast(String question);
    }

    @Test
    void anAiServiceReturningARecordGetsAValidInstance() {
        Forecaster f = AiServices.builder(Forecaster.class).chatModel(model(80)).build();
        Forecast r = f.forecast("What is the weather tomorrow?");
        assertThat(r.sky()).isNotNull();
    }

    interface Assistant {
        String chat(String message);
    }

    static final class WeatherTools {
        final List<Sky> asked = new ArrayList<>();

        @Tool("Tells whether the sky will be as wanted")
        String willItBe(Sky sky) {
            asked.add(sky);
            return "yes, " + sky.name().toLowerCase();
        }
    }

    /**
     * A tiny story model never decides to call a tool by itself: this model requires a call when the user has
     * just spoken, and lets it answer freely once the tool's result is in.
     */
    record CallFirst(ChatModel delegate) implements ChatModel {
        @Override
        public ChatResponse doChat(ChatRequest request) {
            ToolChoice choice = request.messages().getLast() instanceof UserMessage ? ToolChoice.REQUIRED : ToolChoice.AUTO;
            ChatRequestParameters p = request.parameters().overrideWith(ChatRequestParameters.builder().toolChoice(choice).build());
            return delegate.chat(ChatRequest.builder().messages(request.messages()).parameters(p).build());
        }

        @Override
        public ChatRequestParameters defaultRequestParameters() {
            return delegate.defaultRequestParameters();
        }

        @Override
        public Set<Capability> supportedCapabilities() {
            return delegate.supportedCapabilities();
        }
    }

    @Test
    void anAiServiceCallsItsToolAndAnswers() {
        WeatherTools tools = new WeatherTools();
        Assistant a = AiServices.builder(Assistant.class).chatModel(new CallFirst(model(100))).tools(tools).build();
        String answer = a.chat("Will it rain tomorrow?");
        assertThat(tools.asked).hasSize(1);
        assertThat(answer).isNotNull();
    }
}
