package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.SyntheticWorkload.Request;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code prefix:SHARED:UNIQUE:OUT}: every prompt starts with the same SHARED tokens (a system prompt, few-shot
 * examples), then UNIQUE tokens of its own; every request generates OUT tokens. The case prefix caching serves.
 * Lengths are capped so prompt + output fits the max model length (the prompt keeps at least one token).
 */
public record SharedPrefixWorkload(int shared, int unique, int output) implements MemoryWorkload {
    public SharedPrefixWorkload {
        if (shared < 0 || unique < 0 || shared + unique < 1 || output < 1) {
            throw new PagodaException("workload " + label(shared, unique, output) + ": SHARED and UNIQUE must not be"
                    + " negative, their sum and OUT must be at least 1");
        }
    }

    static SharedPrefixWorkload parse(String spec) {
        String[] p = spec.split(":", -1);
        if (p.length != 4) {
            throw new PagodaException("workload '" + spec + "': expected prefix:SHARED:UNIQUE:OUT");
        }
        int[] v = new int[3];
        for (int i = 0; i < 3; i++) {
            try {
                v[i] = Integer.parseInt(p[i + 1]);
            } catch (NumberFormatException e) {
                throw new PagodaException("workload '" + spec + "': '" + p[i + 1] + "' is not a token count");
            }
        }
        return new SharedPrefixWorkload(v[0], v[1], v[2]);
    }

    private static String label(int shared, int unique, int output) {
        return "prefix:" + shared + ":" + unique + ":" + output;
    }

    @Override
    public String label() {
        return label(shared, unique, output);
    }

    private int sharedIn(int maxModelLen) {
        return Math.min(shared, maxModelLen - 1);
    }

    @Override
    public List<Request> generate(int n, long seed, int maxModelLen) {
        if (maxModelLen < 2) {
            throw new PagodaException("max model length " + maxModelLen + " is too small: at least 2 tokens");
        }
        int prompt = sharedIn(maxModelLen) + Math.min(unique, maxModelLen - 1 - sharedIn(maxModelLen));
        return Collections.nCopies(n, new Request(prompt, Math.min(output, maxModelLen - prompt)));
    }

    @Override
    public int drawOutputTokens(SplittableRandom rnd, int promptTokens, int maxModelLen) {
        return Math.clamp(output, 1, Math.max(1, maxModelLen - promptTokens));
    }

    /**
     * Token ids of each request, prompt then output: the first min(SHARED, prompt) ids are the same for all, the
     * others drawn at random with {@code seed} (distinct requests' own tokens never coincide in practice).
     */
    public List<int[]> tokenIds(List<Request> requests, long seed, int maxModelLen) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] prefix = rnd.ints(sharedIn(maxModelLen), 0, Integer.MAX_VALUE).toArray();
        List<int[]> ids = new ArrayList<>(requests.size());
        for (Request r : requests) {
            int[] t = Arrays.copyOf(prefix, r.promptTokens() + r.outputTokens());
            for (int i = Math.min(prefix.length, r.promptTokens()); i < t.length; i++) {
                t[i] = rnd.nextInt(Integer.MAX_VALUE);
            }
            ids.add(t);
        }
        return ids;
    }
}
