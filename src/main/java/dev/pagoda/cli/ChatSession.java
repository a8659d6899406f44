package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.engine.FinishReason;
import dev.pagoda.engine.LLM;
import dev.pagoda.engine.RequestHandle;
import dev.pagoda.engine.RequestOutput;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.server.ChatTemplate;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One conversation in the terminal: each line is a user message; the whole history goes through the chat template
 * and the answer is streamed as it is generated. {@code /reset} forgets the history (the system message stays),
 * {@code /exit} or the end of input leaves, and {@link #stopAnswer()} (Ctrl-C) ends the current answer only.
 */
final class ChatSession {
    static final String HELP = "/reset forgets the conversation, /exit leaves; Ctrl-C stops an answer";
    private static final String PROMPT = ">>> ";

    private final LLM llm;
    private final ChatTemplate template;
    private final SamplingParams params;
    private final String system;
    private final List<Map<String, Object>> history = new ArrayList<>();
    /** Whether a message is being answered; Ctrl-C then stops the answer, even before its request exists. */
    private volatile boolean busy;
    /** The id of the request being answered, once submitted; null otherwise. */
    private volatile String answering;
    private volatile boolean stopRequested;

    ChatSession(LLM llm, ChatTemplate template, SamplingParams params, String system) {
        this.llm = llm;
        this.template = template;
        this.params = params;
        this.system = system;
        reset();
    }

    /** Reads messages until {@code /exit} or the end of input; {@code interactive} shows a prompt before each. */
    void run(BufferedReader in, PrintWriter out, PrintWriter err, boolean interactive) throws IOException, InterruptedException {
        for (String line = read(in, out, interactive); line != null; line = read(in, out, interactive)) {
            String text = line.strip();
            if (text.isEmpty()) {
                continue;
            }
            switch (text) {
                case "/exit", "/quit", "/bye" -> {
                    return;
                }
                case "/reset", "/clear" -> {
                    reset();
                    err.println("(conversation reset)");
                }
                case "/help", "/?" -> err.println(HELP);
                default -> {
                    if (text.startsWith("/")) {
                        err.println("unknown command " + text.split("\\s")[0] + ": " + HELP);
                    } else {
                        answer(line, out, err);
                    }
                }
            }
            err.flush();
        }
    }

    /** Ends the answer being generated, if there is one (its blocks are freed); whether there was one. */
    boolean stopAnswer() {
        if (!busy) {
            return false;
        }
        // Set before reading the id; answer() sets the id before reading this: one of the two aborts the request.
        stopRequested = true;
        String id = answering;
        if (id != null) {
            llm.engine().abort(id);
        }
        return true;
    }

    List<Map<String, Object>> history() {
        return List.copyOf(history);
    }

    private void reset() {
        history.clear();
        if (system != null) {
            history.add(Map.of("role", "system", "content", system));
        }
    }

    private void answer(String message, PrintWriter out, PrintWriter err) throws InterruptedException {
        stopRequested = false;
        busy = true;
        try {
            history.add(Map.of("role", "user", "content", message));
            RequestHandle h = submit(err);
            if (h == null) {
                history.removeLast();
                return;
            }
            answering = h.id();
            if (stopRequested) {
                llm.engine().abort(h.id());
            }
            StringBuilder reply = new StringBuilder();
            RequestOutput o;
            do {
                o = h.next();
                reply.append(o.textDelta());
                out.print(o.textDelta());
                out.flush();
            } while (!o.finished());
            out.println(o.finishReason() == FinishReason.ABORT ? " [stopped]" : "");
            out.flush();
            if (o.error() != null) {
                history.removeLast();
                err.println("pagoda: " + o.error());
                return;
            }
            history.add(Map.of("role", "assistant", "content", reply.toString().strip()));
        } finally {
            busy = false;
            answering = null;
        }
    }

    /** The request for the conversation so far, or null (with one line on {@code err}) when it cannot run. */
    private RequestHandle submit(PrintWriter err) {
        try {
            String prompt = template.render(history, true);
            boolean own = template.rendersSpecialTokens();
            return llm.submit(llm.model().tokenizer().encode(prompt, !own, own), params);
        } catch (PagodaException e) {
            err.println("pagoda: " + e.getMessage() + (e.getMessage().contains("max model length") ? " (/reset starts over)" : ""));
        } catch (RuntimeException e) {
            // The template's own refusal (raise_exception) comes as the server's 400 exception; here it is one line.
            err.println("pagoda: " + e.getMessage());
        }
        return null;
    }

    private static String read(BufferedReader in, PrintWriter out, boolean interactive) throws IOException {
        if (interactive) {
            out.print(PROMPT);
            out.flush();
        }
        return in.readLine();
    }
}
