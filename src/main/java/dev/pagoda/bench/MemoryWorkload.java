package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.SyntheticWorkload.Request;
import java.util.List;
import java.util.SplittableRandom;

/** What {@link MemoryBench} replays: seeded request lengths, and more output lengths from the same distribution. */
public sealed interface MemoryWorkload permits SyntheticWorkload, SharedPrefixWorkload, ScaledShareGptWorkload {
    String USAGE = "sharegpt, alpaca, seed, sharegpt:IN:OUT or prefix:SHARED:UNIQUE:OUT";

    String label();

    /** {@code n} requests drawn with {@code seed}, each with prompt + output <= maxModelLen. */
    List<Request> generate(int n, long seed, int maxModelLen);

    /**
     * One more output length (>= 1) for a request of {@code promptTokens}, capped so prompt + output <=
     * maxModelLen: the length of another sample of the same prompt (parallel sampling).
     */
    int drawOutputTokens(SplittableRandom rnd, int promptTokens, int maxModelLen);

    static MemoryWorkload parse(String spec) {
        if (spec.startsWith("prefix:")) {
            return SharedPrefixWorkload.parse(spec);
        }
        if (spec.startsWith("sharegpt:")) {
            return ScaledShareGptWorkload.parse(spec);
        }
        try {
            return SyntheticWorkload.parse(spec);
        } catch (PagodaException e) {
            throw new PagodaException("unknown workload '" + spec + "': expected " + USAGE);
        }
    }
}
