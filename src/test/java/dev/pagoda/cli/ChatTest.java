package dev.pagoda.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.Await;
import dev.pagoda.TestData;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.LLM;
import dev.pagoda.kv.KvMemoryUsage;
import dev.pagoda.model.ModelLoader;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.server.ChatTemplate;
import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@code pagoda chat}: piped messages, history, /reset, /exit, --system, --chat-template, and stopping an answer. */
class ChatTest {
    private static final String GGUF = "models/stories260K/stories260K.gguf";

    @Test
    void pipedMessagesAreAnsweredInTurnWithResetAndExit() {
        CliTest.Run r = CliTest.runWithInput("Hello\n/reset\n/bogus\n\nHello\n/exit\nnever answered\n",
                "chat", TestData.path(GGUF).toString(), "--temperature", "0", "--max-tokens", "12");
        assertThat(r.code()).as(r.err()).isZero();
        // After /reset the conversation is the same single message, so greedy decoding answers it the same way.
        String out = r.out();
        assertThat(out.length() % 2).isZero();
        String first = out.substring(0, out.length() / 2);
        assertThat(first).endsWith("\n").hasSizeGreaterThan(1);
        assertThat(out.substring(out.length() / 2)).isEqualTo(first);
        assertThat(r.err()).contains("(conversation reset)").contains("unknown command /bogus").contains("no chat template");
    }

    @Test
    void aChatTemplateOverridesTheModelsAndItsRefusalIsOneLine() throws Exception {
        Path template = TestData.scratch("chat").resolve("refuse.jinja");
        Files.writeString(template, "{{ raise_exception('this template takes no chat') }}");
        CliTest.Run r = CliTest.runWithInput("Hello\n", "chat", TestData.path(GGUF).toString(), "--chat-template", template.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("pagoda: the chat template rejected the messages: this template takes no chat").contains("its chat template");
        assertThat(r.out()).isEmpty();
        CliTest.Run missing = CliTest.run("chat", "--chat-template", "no-such-file.jinja");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).startsWith("pagoda: --chat-template: no such file 'no-such-file.jinja'");
    }

    @Test
    void historyKeepsTheSystemMessageAndTheAnswers() throws Exception {
        try (LLM llm = LLM.of(ModelLoader.open(TestData.path(GGUF)), EngineConfig.defaults())) {
            ChatSession chat = new ChatSession(llm, ChatTemplate.of(llm.model()), SamplingParams.greedy(8), "Be brief.");
            StringWriter out = new StringWriter();
            chat.run(new BufferedReader(new StringReader("Hi\nHow are you?\n")), new PrintWriter(out), new PrintWriter(new StringWriter()), false);
            assertThat(chat.history()).extracting(m -> m.get("role")).containsExactly("system", "user", "assistant", "user", "assistant");
            assertThat(chat.history().get(0)).isEqualTo(Map.of("role", "system", "content", "Be brief."));
            assertThat(out.toString()).contains(chat.history().get(2).get("content").toString());
            chat.run(new BufferedReader(new StringReader("/reset\n")), new PrintWriter(out), new PrintWriter(new StringWriter()), false);
            assertThat(chat.history()).extracting(m -> m.get("role")).containsExactly("system");
        }
    }

    @Test
    void stoppingAnAnswerEndsItButNotTheChat() throws Exception {
        try (LLM llm = LLM.of(ModelLoader.open(TestData.path(GGUF)), EngineConfig.defaults())) {
            AtomicReference<ChatSession> chat = new AtomicReference<>();
            StringWriter text = new StringWriter();
            // Until the first answer is stopped, the engine and the chat go in lock step: after each step the engine waits
            // for the chat to print that step's delta, so however fast the engine, the answer cannot end before the stop.
            Semaphore printed = new Semaphore(0);
            AtomicBoolean stopped = new AtomicBoolean();
            llm.engine().setStepHook(() -> {
                try {
                    if (!stopped.get() && !printed.tryAcquire(Await.HANG_GUARD.toMillis(), TimeUnit.MILLISECONDS)) {
                        throw new AssertionError("the chat printed no delta of the step");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            // Stops the first answer as soon as its first text arrives, as Ctrl-C does (the engine is then mid-answer).
            PrintWriter out = new PrintWriter(text) {
                @Override
                public void print(String s) {
                    super.print(s);
                    if (!stopped.get() && !s.isEmpty()) {
                        stopped.set(chat.get().stopAnswer());
                    }
                    printed.release();
                }
            };
            chat.set(new ChatSession(llm, ChatTemplate.of(llm.model()), SamplingParams.greedy(200), null));
            chat.get().run(new BufferedReader(new StringReader("Tell me a story\nAnd another\n")), out, new PrintWriter(new StringWriter()), false);
            assertThat(text.toString()).contains(" [stopped]\n");
            assertThat(text.toString().indexOf("[stopped]")).isEqualTo(text.toString().lastIndexOf("[stopped]"));
            assertThat(chat.get().history()).hasSize(4);
            llm.engine().awaitIdle();
            KvMemoryUsage u = llm.engine().kvUsage();
            assertThat(u.blocksUsed()).as("blocks still in use").isZero();
        }
    }
}
