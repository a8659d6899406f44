package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ArrivalScheduleTest {

    private static double[] gaps(double[] t) {
        double[] g = new double[t.length - 1];
        for (int i = 1; i < t.length; i++) {
            g[i - 1] = t[i] - t[i - 1];
        }
        return g;
    }

    private static double cv2(double[] g) {
        double mean = Arrays.stream(g).average().orElseThrow();
        double var = Arrays.stream(g).map(x -> (x - mean) * (x - mean)).sum() / g.length;
        return var / (mean * mean);
    }

    @Test
    void poissonGapsHaveTheRateAndUnitVariation() {
        double[] t = ArrivalSchedule.times(20_000, 4, 1, 7);
        assertThat(t[0]).isZero();
        double[] g = gaps(t);
        assertThat(Arrays.stream(g).average().orElseThrow()).isCloseTo(0.25, within(0.01));
        assertThat(cv2(g)).as("exponential gaps: CV^2 = 1").isCloseTo(1, within(0.06));
    }

    @Test
    void burstinessIsTheGammaShape() {
        double[] bursty = gaps(ArrivalSchedule.times(20_000, 4, 0.25, 7));
        double[] regular = gaps(ArrivalSchedule.times(20_000, 4, 4, 7));
        assertThat(Arrays.stream(bursty).average().orElseThrow()).isCloseTo(0.25, within(0.02));
        assertThat(Arrays.stream(regular).average().orElseThrow()).isCloseTo(0.25, within(0.01));
        assertThat(cv2(bursty)).isCloseTo(4, within(0.5));
        assertThat(cv2(regular)).isCloseTo(0.25, within(0.03));
    }

    @Test
    void infiniteRateSendsAllAtOnceAndSeedsRepeat() {
        assertThat(ArrivalSchedule.times(5, Double.POSITIVE_INFINITY, 1, 0)).containsOnly(0);
        assertThat(ArrivalSchedule.times(50, 2, 1, 3)).containsExactly(ArrivalSchedule.times(50, 2, 1, 3));
        assertThatThrownBy(() -> ArrivalSchedule.times(5, 0, 1, 0)).isInstanceOf(PagodaException.class).hasMessageContaining("--request-rate");
        assertThatThrownBy(() -> ArrivalSchedule.times(5, 1, -1, 0)).isInstanceOf(PagodaException.class).hasMessageContaining("--burstiness");
    }
}
