package dev.pagoda.server;

import dev.pagoda.TestData;
import dev.pagoda.model.ModelLoader;
import dev.pagoda.tokenizer.Detokenizer;
import dev.pagoda.tokenizer.Tokenizer;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Issue 11, finding 3: what a prompt can cost the tokenizer is bounded by the context, not by what the client sends. */
class PromptBoundTest {
    /** The real tokenizer, counting the chars it is given. */
    private record Counting(Tokenizer t, AtomicLong chars) implements Tokenizer {
        public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
            chars.addAndGet(text.length());
            return t.encode(text, addSpecial, parseSpecial);
        }
        public int vocabSize() { return t.vocabSize(); }
        public int bosId() { return t.bosId(); }
        public int eosId() { return t.eosId(); }
        public boolean isSpecial(int id) { return t.isSpecial(id); }
        public String piece(int id) { return t.piece(id); }
        public byte[] tokenBytes(int id) { return t.tokenBytes(id); }
        public String decode(int[] ids, boolean skipSpecial) { return t.decode(ids, skipSpecial); }
        public Detokenizer newDetokenizer(boolean skipSpecial) { return t.newDetokenizer(skipSpecial); }
    }

    @Test
    void textThatCannotFitIsRefusedUntokenizedAndTheBoundIsSound() {
        Tokenizer real;
        try (var model = ModelLoader.open(TestData.path("models/stories260K/stories260K.bin"))) {
            real = model.tokenizer();
        }
        Counting counting = new Counting(real, new AtomicLong());
        int context = 256;
        PromptBound bound = new PromptBound(counting, context);
        int maxTokenBytes = PromptBound.maxTokenBytes(real);
        long limit = (long) context * maxTokenBytes;
        assertThatThrownBy(() -> bound.encode("x".repeat((int) limit + 1), true, false, "prompt"))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status).isEqualTo(400);
                    assertThat(e.param).isEqualTo("prompt");
                    assertThat(e.rejection).isEqualTo(Rejection.PROMPT_TOO_LONG);
                });
        assertThat(counting.chars().get()).as("chars tokenized").isZero();
        // Sound: text at the bound, made of the longest token repeated, still has at least as many tokens as the context.
        String longest = null;
        for (int id = 0; id < real.vocabSize(); id++) {
            String s = new String(real.tokenBytes(id), java.nio.charset.StandardCharsets.UTF_8);
            if (longest == null || s.length() > longest.length()) {
                longest = s;
            }
        }
        String text = longest.repeat((int) (limit / longest.length()) + 1);
        assertThat(real.encode(text, true, false).length).isGreaterThanOrEqualTo(context);
        assertThat(bound.defaultBodyBytes()).isEqualTo(1L << 20);
    }
}
