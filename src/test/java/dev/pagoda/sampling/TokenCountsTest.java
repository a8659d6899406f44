package dev.pagoda.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenCountsTest {

    @Test
    void countsMatchAMapEvenPastItsSizing() {
        TokenCounts counts = new TokenCounts(4);
        Map<Integer, Integer> expected = new HashMap<>();
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 5000; i++) {
            int t = r.nextInt(0, 700) * 1024; // multiples of a power of two stress the hash
            counts.increment(t);
            expected.merge(t, 1, Integer::sum);
        }
        assertThat(counts.size()).isEqualTo(expected.size());
        Map<Integer, Integer> actual = new HashMap<>();
        for (int i = 0; i < counts.size(); i++) {
            actual.put(counts.token(i), counts.count(i));
        }
        assertThat(actual).isEqualTo(expected);
    }

    @Test
    void iteratesInFirstSeenOrder() {
        TokenCounts counts = new TokenCounts(8);
        for (int t : new int[] {5, 2, 5, 9, 2, 5}) {
            counts.increment(t);
        }
        assertThat(counts.size()).isEqualTo(3);
        assertThat(new int[] {counts.token(0), counts.token(1), counts.token(2)}).containsExactly(5, 2, 9);
        assertThat(new int[] {counts.count(0), counts.count(1), counts.count(2)}).containsExactly(3, 2, 1);
    }
}
