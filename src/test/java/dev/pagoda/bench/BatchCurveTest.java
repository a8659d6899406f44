package dev.pagoda.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pagoda.bench.BatchCurve.Point;
import dev.pagoda.bench.BatchCurve.Result;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchCurveTest {
    /** 1 GB of weights and 1 GFLOP a token, 10 GB/s and 40 GFLOP/s: the ridge at batch 4. Points: 1 s steps. */
    private static final Result CURVE = new Result(32, List.of(new Point(1, 1, 1, 1_000_000_000L), new Point(2, 1, 2, 1_000_000_000L),
            new Point(4, 1, 3, 1_000_000_000L), new Point(8, 1, 4, 1_000_000_000L)), 1_000_000_000L, 1_000_000_000L, 10, 40);

    @Test
    void interpolatesTheCurveBetweenItsPointsAndHoldsItsEnds() {
        assertThat(CURVE.tokensPerSecondAt(3)).isCloseTo(2.5, within(1e-9));
        assertThat(CURVE.tokensPerSecondAt(6)).isCloseTo(3.5, within(1e-9));
        assertThat(CURVE.tokensPerSecondAt(4)).isCloseTo(3, within(1e-9));
        assertThat(CURVE.tokensPerSecondAt(0.5)).isCloseTo(1, within(1e-9));
        assertThat(CURVE.tokensPerSecondAt(20)).isCloseTo(4, within(1e-9));
    }

    @Test
    void aLargerBatchGainsNothingPastTheRidge() {
        assertThat(CURVE.ridgeBatch()).isCloseTo(4, within(1e-9));
        assertThat(CURVE.rooflineGain(8, 2)).isCloseTo(2, within(1e-9));
        assertThat(CURVE.rooflineGain(3, 1.5)).isCloseTo(2, within(1e-9));
        assertThat(CURVE.rooflineGain(16, 8)).isCloseTo(1, within(1e-9));
        assertThat(CURVE.curveGain(8, 2)).isCloseTo(2, within(1e-9));
        assertThat(CURVE.bounds(8, 2)).contains("2.00x by the roofline (ridge at batch 4.0)", "2.00x by the measured curve");
    }
}
