package dev.pagoda.constraint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagoda.tokenizer.Detokenizer;
import dev.pagoda.tokenizer.SyntheticVocabulary;
import dev.pagoda.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Masks over a small hand-made vocabulary: multi-terminal tokens, EOS only where complete, dead ends. */
class TokenMatcherTest {
    /** Pieces by id; the last one is EOS (special). */
    private static final List<String> PIECES = List.of("a", "b", "ab", "{\"", "\":", "1", "12", "}", "é", "\u00c3", "<eos>");
    private static final int EOS = PIECES.size() - 1;

    private static final Tokenizer VOCAB = new Tokenizer() {
        public int[] encode(String text, boolean addSpecial, boolean parseSpecial) { throw new UnsupportedOperationException(); }
        public int vocabSize() { return PIECES.size(); }
        public int bosId() { return -1; }
        public int eosId() { return EOS; }
        public boolean isSpecial(int id) { return id == EOS; }
        public String piece(int id) { return PIECES.get(id); }
        public byte[] tokenBytes(int id) {
            // Token 9 is a lone UTF-8 lead byte (as a byte-fallback token would be), 0xC3: "é" is C3 A9.
            return id == 9 ? new byte[] {(byte) 0xC3} : PIECES.get(id).getBytes(StandardCharsets.UTF_8);
        }
        public String decode(int[] ids, boolean skipSpecial) { throw new UnsupportedOperationException(); }
        public Detokenizer newDetokenizer(boolean skipSpecial) { throw new UnsupportedOperationException(); }
    };

    private static TokenMatcher matcher(Constraint c) {
        return new TokenMatcher(c, VocabularyTrie.of(VOCAB, PIECES.size() + 2), new int[] {EOS});
    }

    private static List<Integer> allowed(ConstraintState s) {
        float[] logits = new float[PIECES.size() + 2];
        s.mask(logits, 0, logits.length);
        return java.util.stream.IntStream.range(0, logits.length).filter(i -> logits[i] == 0f).boxed().toList();
    }

    @Test
    void tokensSpanningSeveralTerminalsAndEosOnlyWhenComplete() {
        ConstraintState s = matcher(Constraint.regex("a+b?")).start();
        assertThat(allowed(s)).containsExactly(0, 2);
        s.accept(0);
        assertThat(allowed(s)).containsExactly(0, 1, 2, EOS);
        s.accept(2);
        assertThat(allowed(s)).containsExactly(EOS);
        assertThat(s.complete()).isTrue();
    }

    @Test
    void jsonTokensCrossStructure() {
        ConstraintState s = matcher(Constraint.jsonSchema("{\"type\":\"object\",\"properties\":{\"ab\":{\"type\":\"integer\"}},"
                + "\"required\":[\"ab\"],\"additionalProperties\":false}")).start();
        assertThat(allowed(s)).containsExactly(3);
        s.accept(3);
        assertThat(allowed(s)).containsExactly(0, 2);
        s.accept(2);
        assertThat(allowed(s)).containsExactly(4);
        s.accept(4);
        assertThat(allowed(s)).containsExactly(5, 6);
        s.accept(6);
        assertThat(allowed(s)).containsExactly(5, 6, 7);
    }

    @Test
    void byteTokensCompleteACharacterTogether() {
        ConstraintState s = matcher(Constraint.choice(List.of("é"))).start();
        assertThat(allowed(s)).containsExactly(8, 9);
        s.accept(9);
        assertThat(allowed(s)).as("no token holds the continuation byte alone").isEmpty();
        assertThat(s.complete()).isFalse();
    }

    @Test
    void forkedStatesMoveIndependently() {
        ConstraintState a = matcher(Constraint.regex("ab|b")).start();
        ConstraintState b = a.fork();
        a.accept(0);
        b.accept(1);
        assertThat(allowed(a)).containsExactly(1);
        assertThat(allowed(b)).containsExactly(EOS);
    }

    @Test
    void compiledConstraintsAreCachedBySource() {
        String schema = "{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"maxItems\":3}";
        assertThat(Constraint.jsonSchema(schema)).isSameAs(Constraint.jsonSchema(new String(schema)));
    }

    @Test
    void errorsNameWhatIsWrong() {
        assertThatThrownBy(() -> Constraint.regex("a(b")).isInstanceOf(ConstraintException.class).hasMessageContaining("missing ')'");
        assertThatThrownBy(() -> Constraint.regex("(?=a)")).hasMessageContaining("lookaround");
        assertThatThrownBy(() -> Constraint.jsonSchema("{\"type\":\"object\",\"minProperties\":1}"))
                .hasMessageContaining("'minProperties'").hasMessageContaining("#");
        assertThatThrownBy(() -> Constraint.jsonSchema("{\"type\":\"strin\"}")).hasMessageContaining("unknown type 'strin'");
        assertThatThrownBy(() -> Constraint.jsonSchema("{\"$ref\":\"#/$defs/x\"}")).hasMessageContaining("points to nothing");
        assertThatThrownBy(() -> Constraint.jsonSchema("{not json")).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> Constraint.grammar("root ::= foo")).hasMessageContaining("undefined rule 'foo'");
        assertThatThrownBy(() -> Constraint.grammar("start ::= \"a\"")).hasMessageContaining("no 'root' rule");
    }

    @Test
    void utf8RangesEncodeExactlyTheirCodePoints() {
        // Every code point of a few ranges crossing encoding lengths is accepted, its neighbours outside are not.
        int[][] ranges = {{0x70, 0x90}, {0x7F0, 0x810}, {0xD700, 0xE100}, {0xFFF0, 0x10010}};
        for (int[] r : ranges) {
            Dfa dfa = new Dfa(Nfa.of(new Expr.Chars(CodePoints.of(r[0], r[1]))));
            for (int cp = r[0] - 3; cp <= r[1] + 3; cp++) {
                if (cp >= 0xD800 && cp <= 0xDFFF) {
                    continue;
                }
                byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                int s = dfa.start();
                for (byte x : b) {
                    s = s < 0 ? s : dfa.step(s, x & 0xFF);
                }
                assertThat(s >= 0 && dfa.accepting(s)).as("U+%04X in %s", cp, Arrays.toString(r)).isEqualTo(cp >= r[0] && cp <= r[1]);
            }
        }
    }

    @Test
    void maskedLogitsAreExactlyTheAllowedTokens() {
        // A vocabulary that is no multiple of 64, over states with empty, sparse, dense and full mask words.
        int vocab = 1000;
        Tokenizer tok = SyntheticVocabulary.byteLevel(vocab, 3).tokenizer();
        TokenMatcher m = new TokenMatcher(Constraint.jsonSchema(TestSchemas.ALL.get("nested")), VocabularyTrie.of(tok, vocab),
                new int[] {tok.eosId()});
        ConstraintState s = m.start();
        SplittableRandom rnd = new SplittableRandom(5);
        float[] logits = new float[vocab + 3];
        for (int step = 0; step < 60; step++) {
            Arrays.fill(logits, 1f);
            boolean any = s.mask(logits, 2, vocab);
            long[] bits = m.mask(s.state());
            List<Integer> allowed = new ArrayList<>();
            for (int t = 0; t < vocab; t++) {
                boolean ok = (bits[t >>> 6] & (1L << t)) != 0;
                assertThat(logits[2 + t]).as("token %d at step %d", t, step).isEqualTo(ok ? 1f : Float.NEGATIVE_INFINITY);
                if (ok) {
                    allowed.add(t);
                }
            }
            assertThat(logits[0]).isEqualTo(1f);
            assertThat(logits[vocab + 2]).isEqualTo(1f);
            assertThat(any).isEqualTo(!allowed.isEmpty());
            if (allowed.isEmpty() || s.complete()) {
                break;
            }
            s.accept(allowed.get(rnd.nextInt(allowed.size())));
        }
    }
}
