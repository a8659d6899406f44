package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import java.util.SplittableRandom;

/**
 * When benchmark requests are sent (vLLM bench serve): gaps drawn from a gamma distribution with shape
 * {@code burstiness} and mean {@code 1 / rate}. Burstiness 1 is a Poisson process; below 1 burstier, above 1
 * more regular. An infinite rate sends everything at once.
 */
public final class ArrivalSchedule {
    private ArrivalSchedule() {
    }

    /** Send times in seconds from the start, one per request, non-decreasing; seeded. */
    public static double[] times(int n, double rate, double burstiness, long seed) {
        if (!(rate > 0)) {
            throw new PagodaException("--request-rate must be positive (or inf), got " + rate);
        }
        if (!(burstiness > 0) || Double.isInfinite(burstiness)) {
            throw new PagodaException("--burstiness must be a positive number, got " + burstiness);
        }
        double[] t = new double[n];
        if (Double.isInfinite(rate)) {
            return t;
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        double scale = 1 / (rate * burstiness);
        double now = 0;
        for (int i = 0; i < n; i++) {
            t[i] = now;
            now += gamma(rnd, burstiness) * scale;
        }
        return t;
    }

    /** Gamma(shape, 1) by Marsaglia and Tsang; shape below 1 through the boost Gamma(a) = Gamma(a + 1) U^(1/a). */
    static double gamma(SplittableRandom rnd, double shape) {
        if (shape < 1) {
            return gamma(rnd, shape + 1) * StrictMath.pow(1 - rnd.nextDouble(), 1 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / StrictMath.sqrt(9 * d);
        while (true) {
            double x;
            double v;
            do {
                x = gaussian(rnd);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = 1 - rnd.nextDouble();
            if (StrictMath.log(u) < 0.5 * x * x + d - d * v + d * StrictMath.log(v)) {
                return d * v;
            }
        }
    }

    private static double gaussian(SplittableRandom rnd) {
        double u = 1 - rnd.nextDouble();
        double v = rnd.nextDouble();
        return StrictMath.sqrt(-2 * StrictMath.log(u)) * StrictMath.cos(2 * Math.PI * v);
    }
}
