package dev.pagoda.server;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A reply's tool calls found while its text arrives, as OpenAI streams them: plain content until a call
 * starts, then each call named (index, id, name) as soon as its name is complete and its arguments passed on
 * as they are written. The same reading makes the whole (non-streamed) answer, so both agree; a whole reply
 * that is not well formed is all content (a stream cannot take back what it sent, so it only stops there).
 * One per choice; the formats are {@link Named}, {@link Required}, {@link Hermes} and {@link Llama3Json}.
 */
abstract class ToolCallStream {
    /** Where the pieces go: chunks of a stream, or the parts of a whole answer. */
    interface Sink {
        void content(String text);

        void call(int index, String id, String name);

        void arguments(int index, String fragment);
    }

    final Sink sink;
    private ToolCallReader reader;
    private boolean started;
    /** Calls begun so far: the index of the next. */
    int calls;
    boolean wellFormed = true;

    ToolCallStream(Sink sink) {
        this.sink = sink;
    }

    /** Reads the next piece of the reply's text. */
    abstract void feed(String text);

    /** The reply ended: sends what was held back. */
    abstract void finish();

    /** The calls of a whole reply, or all of it as content when it is not well formed. */
    static ToolCalls whole(Function<Sink, ToolCallStream> format, String text) {
        StringBuilder content = new StringBuilder();
        List<String[]> parts = new ArrayList<>();
        ToolCallStream s = format.apply(new Sink() {
            @Override
            public void content(String t) {
                content.append(t);
            }

            @Override
            public void call(int index, String id, String name) {
                parts.add(new String[] {id, name, ""});
            }

            @Override
            public void arguments(int index, String fragment) {
                parts.getLast()[2] += fragment;
            }
        });
        s.feed(text);
        s.finish();
        if (!s.wellFormed || parts.isEmpty()) {
            return ToolCalls.none(text);
        }
        List<ToolCalls.Call> calls = new ArrayList<>();
        for (String[] p : parts) {
            calls.add(new ToolCalls.Call(p[0], p[1], p[2]));
        }
        return new ToolCalls(content.toString(), calls);
    }

    /** Whether text read now could still turn out to be content (no call has begun). */
    final boolean noCallYet() {
        return calls == 0 && !started;
    }

    final void openCall(List<String> argumentKeys) {
        reader = new ToolCallReader(argumentKeys);
        started = false;
    }

    /** One character of the current call; at its end a call is counted, or the reply marked not well formed. */
    final ToolCallReader.Step readCall(char c) {
        ToolCallReader.Step step = reader.accept(c);
        if (step == ToolCallReader.Step.DONE && !reader.isCall()) {
            step = ToolCallReader.Step.MALFORMED;
        }
        if (step == ToolCallReader.Step.DONE) {
            flushCall();
            calls++;
            started = false;
        } else if (step == ToolCallReader.Step.MALFORMED) {
            wellFormed = false;
            if (started) {
                calls++;
                started = false;
            }
        }
        return step;
    }

    /** Names the current call once its name is known, then passes on the arguments written since. */
    final void flushCall() {
        if (!started && reader.name() != null) {
            sink.call(calls, ToolCalls.newId(), reader.name());
            started = true;
        }
        if (started) {
            String args = reader.takeArguments();
            if (!args.isEmpty()) {
                sink.arguments(calls, args);
            }
        }
    }

    /** The reply left a call unfinished. */
    final void unfinishedCall() {
        wellFormed = false;
    }

    static boolean whitespace(char c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
    }

    /** tool_choice with a named function: the whole reply is that function's arguments. */
    static final class Named extends ToolCallStream {
        private final String name;

        Named(Sink sink, String name) {
            super(sink);
            this.name = name;
        }

        @Override
        void feed(String text) {
            if (calls == 0) {
                sink.call(0, ToolCalls.newId(), name);
                calls = 1;
            }
            if (!text.isEmpty()) {
                sink.arguments(0, text);
            }
        }

        @Override
        void finish() {
            feed("");
        }
    }

    /** tool_choice required: the reply is a JSON array of {@code {"name": ..., "arguments": {...}}}. */
    static final class Required extends ToolCallStream {
        private enum State { BEFORE, FIRST, NEXT, CALL, AFTER, CLOSED, BROKEN }

        private State state = State.BEFORE;

        Required(Sink sink) {
            super(sink);
        }

        @Override
        void feed(String text) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (state == State.CALL) {
                    ToolCallReader.Step step = readCall(c);
                    state = step == ToolCallReader.Step.DONE ? State.AFTER : step == ToolCallReader.Step.MALFORMED ? State.BROKEN : State.CALL;
                } else if (!whitespace(c) && state != State.BROKEN) {
                    state = switch (state) {
                        case BEFORE -> c == '[' ? State.FIRST : State.BROKEN;
                        case FIRST, NEXT -> c == '{' ? State.CALL : c == ']' && state == State.FIRST ? State.CLOSED : State.BROKEN;
                        case AFTER -> c == ',' ? State.NEXT : c == ']' ? State.CLOSED : State.BROKEN;
                        default -> State.BROKEN;
                    };
                    if (state == State.CALL) {
                        openCall(List.of("arguments"));
                        readCall(c);
                    }
                }
            }
            if (state == State.CALL) {
                flushCall();
            }
        }

        @Override
        void finish() {
            if (state != State.CLOSED) {
                unfinishedCall();
            }
        }
    }

    /**
     * Hermes-style calls (Qwen2.5, Hermes): {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}
     * blocks. The content is the text before the first call, less its trailing whitespace; text between and
     * after calls is dropped. A piece of text that may begin the tag, and trailing whitespace, wait for what
     * follows before they are sent as content.
     */
    static final class Hermes extends ToolCallStream {
        private static final String TAG = "<tool_call>";
        private enum State { CONTENT, CALL, BETWEEN }

        private State state = State.CONTENT;
        /** Text not sent yet: held content, or the tail of dropped text that may begin a tag. */
        private final StringBuilder pending = new StringBuilder();
        /** From the whitespace before the first tag on: the content to send if that call is not well formed. */
        private final StringBuilder fallback = new StringBuilder();

        Hermes(Sink sink) {
            super(sink);
        }

        @Override
        void feed(String text) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (state == State.CALL) {
                    call(c);
                    continue;
                }
                pending.append(c);
                int n = pending.length();
                if (n >= TAG.length() && pending.indexOf(TAG, n - TAG.length()) >= 0) {
                    String before = pending.substring(0, n - TAG.length());
                    if (state == State.CONTENT) {
                        String kept = before.stripTrailing();
                        if (!kept.isEmpty()) {
                            sink.content(kept);
                        }
                        fallback.setLength(0);
                        fallback.append(pending, kept.length(), n);
                    }
                    pending.setLength(0);
                    state = State.CALL;
                    openCall(List.of("arguments"));
                }
            }
            switch (state) {
                case CALL -> flushCall();
                case CONTENT -> {
                    int safe = pending.length() - tagPrefix();
                    while (safe > 0 && whitespace(pending.charAt(safe - 1))) {
                        safe--;
                    }
                    if (safe > 0) {
                        sink.content(pending.substring(0, safe));
                        pending.delete(0, safe);
                    }
                }
                case BETWEEN -> pending.delete(0, Math.max(0, pending.length() - TAG.length() + 1));
            }
        }

        private void call(char c) {
            boolean first = noCallYet();
            if (first) {
                fallback.append(c);
            }
            ToolCallReader.Step step = readCall(c);
            if (step == ToolCallReader.Step.DONE) {
                state = State.BETWEEN;
            } else if (step == ToolCallReader.Step.MALFORMED) {
                if (first) {
                    // Not a call after all: what was held is content, and reading goes on as content.
                    pending.setLength(0);
                    pending.append(fallback);
                    state = State.CONTENT;
                } else {
                    state = State.BETWEEN;
                }
            }
        }

        /** The length of the longest end of the pending text that begins the tag. */
        private int tagPrefix() {
            for (int k = Math.min(TAG.length() - 1, pending.length()); k > 0; k--) {
                if (TAG.startsWith(pending.substring(pending.length() - k))) {
                    return k;
                }
            }
            return 0;
        }

        @Override
        void finish() {
            if (state == State.CALL) {
                unfinishedCall();
                if (noCallYet()) {
                    sink.content(fallback.toString());
                }
            } else if (state == State.CONTENT && !pending.isEmpty()) {
                sink.content(pending.toString());
            }
        }
    }

    /**
     * Llama 3.1+ JSON calls: a reply that is one call {@code {"name": ..., "parameters": {...}}} (or several
     * joined by ';'), optionally after {@code <|python_tag|>}; any other reply is content.
     */
    static final class Llama3Json extends ToolCallStream {
        private static final String PYTHON_TAG = "<|python_tag|>";
        private static final List<String> ARGUMENTS = List.of("parameters", "arguments");
        private enum State { START, CONTENT, CALL, AFTER, NEXT, BROKEN }

        private State state = State.START;
        /** The text read while it may still turn out to be content. */
        private final StringBuilder held = new StringBuilder();

        Llama3Json(Sink sink) {
            super(sink);
        }

        @Override
        void feed(String text) {
            int from = 0;
            for (int i = 0; i < text.length() && state != State.CONTENT; i++) {
                char c = text.charAt(i);
                from = i + 1;
                if (noCallYet()) {
                    held.append(c);
                }
                switch (state) {
                    case START -> start(c);
                    case CALL -> {
                        ToolCallReader.Step step = readCall(c);
                        if (step == ToolCallReader.Step.DONE) {
                            state = State.AFTER;
                        } else if (step == ToolCallReader.Step.MALFORMED) {
                            notACall();
                        }
                    }
                    case AFTER, NEXT -> {
                        if (state == State.AFTER && c == ';') {
                            state = State.NEXT;
                        } else if (state == State.NEXT && c == '{') {
                            state = State.CALL;
                            openCall(ARGUMENTS);
                            readCall(c);
                        } else if (!whitespace(c)) {
                            notACall();
                        }
                    }
                    default -> {
                        // BROKEN: the rest is dropped.
                    }
                }
            }
            if (state == State.CONTENT && from < text.length()) {
                sink.content(text.substring(from));
            } else if (state == State.CALL) {
                flushCall();
            }
        }

        private void start(char c) {
            String s = held.toString().stripLeading();
            if (s.startsWith(PYTHON_TAG)) {
                s = s.substring(PYTHON_TAG.length()).stripLeading();
            } else if (PYTHON_TAG.startsWith(s)) {
                return;
            }
            if (s.isEmpty()) {
                return;
            }
            if (s.charAt(0) == '{') {
                state = State.CALL;
                openCall(ARGUMENTS);
                readCall(c);
            } else {
                state = State.CONTENT;
                sink.content(held.toString());
            }
        }

        private void notACall() {
            wellFormed = false;
            if (noCallYet()) {
                state = State.CONTENT;
                sink.content(held.toString());
            } else {
                state = State.BROKEN;
            }
        }

        @Override
        void finish() {
            if (state == State.START && !held.isEmpty()) {
                sink.content(held.toString());
            } else if (state == State.CALL) {
                unfinishedCall();
                if (noCallYet()) {
                    sink.content(held.toString());
                }
            }
        }
    }
}
