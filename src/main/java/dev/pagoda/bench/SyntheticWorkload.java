package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Seeded synthetic request lengths standing in for the datasets the paper uses. Lengths are log-normal with the
 * datasets' reported means (heavy right tail, like real chats), each request capped so prompt + output fits the
 * max model length.
 */
public enum SyntheticWorkload implements MemoryWorkload {
    /** ShareGPT: mean input ~161, output ~338 tokens; long, widely spread conversations. */
    SHAREGPT(161, 338, 1.0),
    /** Alpaca: mean input ~19, output ~58 tokens; short instructions. */
    ALPACA(19, 58, 0.6),
    /**
     * The paper's example: requests of 50, 300 and 700 tokens in all (chosen at random, a fifth of each being the
     * prompt), against a max length of 2048.
     */
    SEED(0, 0, 0);

    private static final int[] SEED_LENGTHS = {50, 300, 700};

    /** One request: prompt tokens and the output tokens it will generate (>= 1 each). */
    public record Request(int promptTokens, int outputTokens) {
    }

    /**
     * A workload's lengths divided by {@code divisor} ({@code sharegpt/4}): drawn against {@code divisor} times the
     * max model length, then divided (rounded, at least 1). Against the max model length the requests are as long
     * as the full-size workload's against the larger one, so the contiguous layout's reservations waste the same
     * share, at 1/divisor of the tokens to compute (weights dominate a step at these lengths): the paper's
     * comparison in minutes on a CPU.
     */
    public record Scaled(SyntheticWorkload workload, int divisor) {
        public Scaled {
            if (divisor < 1) {
                throw new PagodaException("workload " + workload.label() + "/" + divisor + ": the divisor must be at least 1");
            }
        }

        /** {@code NAME} or {@code NAME/DIVISOR}. */
        public static Scaled parse(String spec) {
            int slash = spec.indexOf('/');
            if (slash < 0) {
                return new Scaled(SyntheticWorkload.parse(spec), 1);
            }
            try {
                return new Scaled(SyntheticWorkload.parse(spec.substring(0, slash)), Integer.parseInt(spec.substring(slash + 1)));
            } catch (NumberFormatException e) {
                throw new PagodaException("workload '" + spec + "': '" + spec.substring(slash + 1) + "' is not a divisor");
            }
        }

        public String label() {
            return workload.label() + (divisor == 1 ? "" : "/" + divisor);
        }

        public List<Request> generate(int n, long seed, int maxModelLen) {
            List<Request> full = workload.generate(n, seed, (int) Math.min(Integer.MAX_VALUE, (long) maxModelLen * divisor));
            if (divisor == 1) {
                return full;
            }
            List<Request> out = new ArrayList<>(full.size());
            for (Request r : full) {
                int prompt = Math.clamp(Math.round((float) r.promptTokens() / divisor), 1, maxModelLen - 1);
                out.add(new Request(prompt, Math.clamp(Math.round((float) r.outputTokens() / divisor), 1, maxModelLen - prompt)));
            }
            return out;
        }
    }

    private final double meanInput;
    private final double meanOutput;
    private final double sigma;

    SyntheticWorkload(double meanInput, double meanOutput, double sigma) {
        this.meanInput = meanInput;
        this.meanOutput = meanOutput;
        this.sigma = sigma;
    }

    public static SyntheticWorkload parse(String name) {
        for (SyntheticWorkload w : values()) {
            if (w.label().equals(name.toLowerCase(Locale.ROOT))) {
                return w;
            }
        }
        throw new PagodaException("unknown workload '" + name + "': expected sharegpt, alpaca or seed");
    }

    @Override
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    @Override
    public List<Request> generate(int n, long seed, int maxModelLen) {
        return this == SEED ? seedRequests(n, seed, maxModelLen)
                : logNormal(n, seed, maxModelLen, meanInput, meanOutput, sigma);
    }

    private static List<Request> seedRequests(int n, long seed, int maxModelLen) {
        checkMaxModelLen(maxModelLen);
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Request> requests = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int total = Math.min(maxModelLen, SEED_LENGTHS[rnd.nextInt(SEED_LENGTHS.length)]);
            int prompt = Math.max(1, total / 5);
            int output = Math.max(1, total - prompt);
            prompt = Math.clamp(prompt, 1, maxModelLen - 1);
            requests.add(new Request(prompt, Math.clamp(output, 1, maxModelLen - prompt)));
        }
        return requests;
    }

    /**
     * {@code n} requests with log-normal prompt and output lengths of the given means and spread (sigma of the
     * log), drawn with {@code seed}, each capped so prompt + output fits {@code maxModelLen}.
     */
    static List<Request> logNormal(int n, long seed, int maxModelLen, double meanInput, double meanOutput, double sigma) {
        checkMaxModelLen(maxModelLen);
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Request> requests = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int prompt = (int) Math.round(logNormal(rnd, meanInput, sigma));
            int output = (int) Math.round(logNormal(rnd, meanOutput, sigma));
            prompt = Math.clamp(prompt, 1, maxModelLen - 1);
            requests.add(new Request(prompt, Math.clamp(output, 1, maxModelLen - prompt)));
        }
        return requests;
    }

    private static void checkMaxModelLen(int maxModelLen) {
        if (maxModelLen < 2) {
            throw new PagodaException("max model length " + maxModelLen + " is too small: at least 2 tokens");
        }
    }

    @Override
    public int drawOutputTokens(SplittableRandom rnd, int promptTokens, int maxModelLen) {
        if (this != SEED) {
            return logNormalOutput(rnd, meanOutput, sigma, promptTokens, maxModelLen);
        }
        int total = Math.min(maxModelLen, SEED_LENGTHS[rnd.nextInt(SEED_LENGTHS.length)]);
        return Math.clamp(total - Math.max(1, total / 5), 1, Math.max(1, maxModelLen - promptTokens));
    }

    /** One more log-normal output length for a request of {@code promptTokens}, capped as {@link #logNormal}. */
    static int logNormalOutput(SplittableRandom rnd, double meanOutput, double sigma, int promptTokens, int maxModelLen) {
        int output = (int) Math.round(logNormal(rnd, meanOutput, sigma));
        return Math.clamp(output, 1, Math.max(1, maxModelLen - promptTokens));
    }

    /** Log-normal with the given mean: exp(mu + sigma * z), mu = ln(mean) - sigma^2 / 2. */
    private static double logNormal(SplittableRandom rnd, double mean, double sigma) {
        double z = gaussian(rnd);
        return StrictMath.exp(StrictMath.log(mean) - sigma * sigma / 2 + sigma * z);
    }

    /** Box-Muller with StrictMath, so the lengths depend only on the seed (not on the JIT or the CPU). */
    private static double gaussian(SplittableRandom rnd) {
        double u = 1 - rnd.nextDouble();
        double v = rnd.nextDouble();
        return StrictMath.sqrt(-2 * StrictMath.log(u)) * StrictMath.cos(2 * Math.PI * v);
    }
}
