package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.SyntheticWorkload.Request;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code sharegpt:IN:OUT}: ShareGPT's length distribution (log-normal, its spread) moved to a mean prompt of IN and
 * a mean output of OUT tokens, e.g. {@code sharegpt:161:8192} for chat prompts with long outputs (long-context
 * generation, where sliding windows matter). Each request is capped so prompt + output fits the max model length.
 */
public record ScaledShareGptWorkload(int meanInput, int meanOutput) implements MemoryWorkload {
    /** ShareGPT's spread: the sigma of the logarithm of its lengths, as {@link SyntheticWorkload#SHAREGPT} draws. */
    private static final double SIGMA = 1.0;

    public ScaledShareGptWorkload {
        if (meanInput < 1 || meanOutput < 1) {
            throw new PagodaException("workload " + label(meanInput, meanOutput) + ": IN and OUT must be at least 1");
        }
    }

    static ScaledShareGptWorkload parse(String spec) {
        String[] p = spec.split(":", -1);
        if (p.length != 3) {
            throw new PagodaException("workload '" + spec + "': expected sharegpt:IN:OUT");
        }
        try {
            return new ScaledShareGptWorkload(Integer.parseInt(p[1]), Integer.parseInt(p[2]));
        } catch (NumberFormatException e) {
            throw new PagodaException("workload '" + spec + "': expected sharegpt:IN:OUT, IN and OUT token counts");
        }
    }

    private static String label(int meanInput, int meanOutput) {
        return "sharegpt:" + meanInput + ":" + meanOutput;
    }

    @Override
    public String label() {
        return label(meanInput, meanOutput);
    }

    @Override
    public List<Request> generate(int n, long seed, int maxModelLen) {
        return SyntheticWorkload.logNormal(n, seed, maxModelLen, meanInput, meanOutput, SIGMA);
    }

    @Override
    public int drawOutputTokens(SplittableRandom rnd, int promptTokens, int maxModelLen) {
        return SyntheticWorkload.logNormalOutput(rnd, meanOutput, SIGMA, promptTokens, maxModelLen);
    }
}
