package dev.pagoda.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StopStringsTest {

    private static List<String> feed(StopStrings s, String... deltas) {
        List<String> out = new ArrayList<>();
        for (String d : deltas) {
            out.add(s.next(d));
        }
        return out;
    }

    @Test
    void withoutStopStringsTextPassesThrough() {
        StopStrings s = new StopStrings(List.of(), false);
        assertThat(feed(s, "a", "bc", "")).containsExactly("a", "bc", "");
        assertThat(s.flush()).isEmpty();
        assertThat(s.stopped()).isFalse();
    }

    @Test
    void aStopStringSpanningTokensEndsTheTextBeforeIt() {
        StopStrings s = new StopStrings(List.of("END"), false);
        assertThat(feed(s, "Hello E", "N", "D and more", "later")).containsExactly("Hello ", "", "", "");
        assertThat(s.stopped()).isTrue();
        assertThat(s.matched()).isEqualTo("END");
        assertThat(s.flush()).isEmpty();
    }

    @Test
    void textAfterTheStopStringInTheSameDeltaIsDropped() {
        StopStrings s = new StopStrings(List.of("END"), false);
        assertThat(s.next("fooENDbar")).isEqualTo("foo");
        assertThat(s.stopped()).isTrue();
    }

    @Test
    void onlyTheTailThatCouldStartAStopStringIsHeldBack() {
        StopStrings s = new StopStrings(List.of("abc"), false);
        assertThat(s.next("xab")).isEqualTo("x");
        assertThat(s.next("d")).isEqualTo("abd");
        // "aa" could still become "aab": the longest such tail, not just the last character, is held.
        StopStrings t = new StopStrings(List.of("aab"), false);
        assertThat(t.next("baaa")).isEqualTo("ba");
        assertThat(t.next("c")).isEqualTo("aac");
        assertThat(t.stopped()).isFalse();
    }

    @Test
    void includeStopStrInOutputKeepsItAndHoldsNothingBack() {
        StopStrings s = new StopStrings(List.of("END"), true);
        assertThat(feed(s, "a E", "ND tail")).containsExactly("a E", "ND");
        assertThat(s.stopped()).isTrue();
        StopStrings excluded = new StopStrings(List.of("END"), false);
        assertThat(feed(excluded, "a E", "ND tail")).containsExactly("a ", "");
    }

    @Test
    void theStopStringCompletedFirstWins() {
        // "lo w" completes at character 8, "world" only at 11, though "world" is listed first.
        StopStrings s = new StopStrings(List.of("world", "lo w"), false);
        assertThat(s.next("hello world")).isEqualTo("hel");
        assertThat(s.matched()).isEqualTo("lo w");
        // Both end on the same character: the one starting earlier wins.
        StopStrings t = new StopStrings(List.of("c", "abc"), false);
        assertThat(t.next("xabcd")).isEqualTo("x");
        assertThat(t.matched()).isEqualTo("abc");
    }

    @Test
    void multiByteCharactersAndEmoji() {
        StopStrings s = new StopStrings(List.of("🙂!"), false);
        assertThat(feed(s, "héllo ", "🙂", "!", "x")).containsExactly("héllo ", "", "", "");
        assertThat(s.stopped()).isTrue();

        StopStrings t = new StopStrings(List.of("🙂!"), false);
        assertThat(feed(t, "日本🙂", "?")).containsExactly("日本", "🙂?");
        // A stop string sharing only a high surrogate with the text does not hold it back.
        StopStrings u = new StopStrings(List.of("😀x"), false);
        assertThat(u.next("a🙂")).isEqualTo("a🙂");
    }

    @Test
    void aSurrogatePairIsNeverSplitBetweenPieces() {
        StopStrings s = new StopStrings(List.of("zz"), true);
        assertThat(s.next("a\uD83D")).isEqualTo("a");
        assertThat(s.next("\uDE42b")).isEqualTo("🙂b");
    }

    @Test
    void flushReleasesHeldBackTextWhenGenerationEndsOtherwise() {
        StopStrings s = new StopStrings(List.of("END"), false);
        assertThat(s.next("abc EN")).isEqualTo("abc ");
        assertThat(s.flush()).isEqualTo("EN");
        assertThat(s.stopped()).isFalse();
        assertThat(s.next("D")).isEmpty();
    }

    @Test
    void anyChunkingGivesTheSameTextAsTheWholeString() {
        // Reference: the text up to the stop that completes first (earliest end, then earliest start).
        List<String> stops = List.of("abc", "bca", "cc", "cab");
        SplittableRandom r = new SplittableRandom(5);
        for (int trial = 0; trial < 2000; trial++) {
            StringBuilder text = new StringBuilder();
            int len = r.nextInt(0, 30);
            for (int i = 0; i < len; i++) {
                text.append("abcd".charAt(r.nextInt(4)));
            }
            boolean include = r.nextBoolean();
            String expected = reference(text.toString(), stops, include);
            StopStrings s = new StopStrings(stops, include);
            StringBuilder out = new StringBuilder();
            int at = 0;
            while (at < len && !s.stopped()) {
                int to = Math.min(len, at + r.nextInt(1, 5));
                String seen = text.substring(0, to);
                out.append(s.next(text.substring(at, to)));
                if (!s.stopped()) {
                    // Everything seen is emitted except the longest tail that is a proper prefix of a stop.
                    assertThat(out.length()).isEqualTo(include ? to : to - heldTail(seen, stops));
                    assertThat(seen).startsWith(out.toString());
                }
                at = to;
            }
            out.append(s.flush());
            assertThat(out.toString()).as("text %s include %s", text, include).isEqualTo(expected);
        }
    }

    private static String reference(String text, List<String> stops, boolean include) {
        for (int end = 1; end <= text.length(); end++) {
            for (int start = 0; start < end; start++) {
                if (stops.contains(text.substring(start, end))) {
                    return text.substring(0, include ? end : start);
                }
            }
        }
        return text;
    }

    private static int heldTail(String seen, List<String> stops) {
        for (int k = seen.length(); k > 0; k--) {
            String tail = seen.substring(seen.length() - k);
            for (String s : stops) {
                if (s.length() > k && s.startsWith(tail)) {
                    return k;
                }
            }
        }
        return 0;
    }
}
