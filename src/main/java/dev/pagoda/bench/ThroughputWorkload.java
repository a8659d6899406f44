package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The requests of an offline throughput run: prompt token ids drawn at random from the vocabulary (no special
 * tokens) and the number of tokens each generates. Same spec, count, seed and max length: same requests.
 * <ul>
 *   <li>{@code sharegpt}, {@code alpaca}: lengths from {@link SyntheticWorkload}; {@code sharegpt/4}: those lengths
 *       divided by 4 ({@link SyntheticWorkload.Scaled})</li>
 *   <li>{@code fixed:IN:OUT}: every prompt IN tokens, every output OUT</li>
 *   <li>{@code prefix:SHARED:UNIQUE:OUT}: one SHARED-token prefix common to all prompts, then UNIQUE tokens of each
 *       request's own (the case automatic prefix caching serves)</li>
 * </ul>
 * Lengths are capped so prompt + output fits the max model length (prompt first, it keeps at least one token).
 */
public sealed interface ThroughputWorkload {
    String USAGE = "sharegpt, alpaca (either as NAME/DIVISOR: lengths divided), fixed:IN:OUT or prefix:SHARED:UNIQUE:OUT";

    /** One request: its prompt and the tokens it generates (ignoring EOS). */
    record BenchRequest(int[] prompt, int outputTokens) {
    }

    String label();

    /** Whether the prompts share a prefix, so prefix caching matters. */
    default boolean sharesPrefix() {
        return false;
    }

    List<BenchRequest> requests(int n, long seed, int maxModelLen, Tokenizer vocabulary);

    static ThroughputWorkload parse(String spec) {
        String[] p = spec.split(":", -1);
        return switch (p[0]) {
            case "fixed" -> {
                int[] v = numbers(spec, p, 2);
                yield new Fixed(v[0], v[1]);
            }
            case "prefix" -> {
                int[] v = numbers(spec, p, 3);
                yield new SharedPrefix(v[0], v[1], v[2]);
            }
            default -> {
                if (p.length != 1 || p[0].startsWith("seed")) {
                    throw new PagodaException("unknown workload '" + spec + "': expected " + USAGE);
                }
                try {
                    yield new Dataset(SyntheticWorkload.Scaled.parse(spec));
                } catch (PagodaException e) {
                    throw new PagodaException("unknown workload '" + spec + "': expected " + USAGE);
                }
            }
        };
    }

    /** ShareGPT- or Alpaca-like lengths, possibly divided. */
    record Dataset(SyntheticWorkload.Scaled lengths) implements ThroughputWorkload {
        public Dataset(SyntheticWorkload lengths) {
            this(new SyntheticWorkload.Scaled(lengths, 1));
        }

        @Override
        public String label() {
            return lengths.label();
        }

        @Override
        public List<BenchRequest> requests(int n, long seed, int maxModelLen, Tokenizer vocabulary) {
            RandomPrompts tokens = new RandomPrompts(vocabulary, seed);
            List<BenchRequest> out = new ArrayList<>(n);
            for (SyntheticWorkload.Request r : lengths.generate(n, seed, maxModelLen)) {
                out.add(new BenchRequest(tokens.next(r.promptTokens()), r.outputTokens()));
            }
            return out;
        }
    }

    record Fixed(int input, int output) implements ThroughputWorkload {
        public Fixed {
            if (input < 1 || output < 1) {
                throw new PagodaException("workload fixed:" + input + ":" + output + ": IN and OUT must be at least 1");
            }
        }

        @Override
        public String label() {
            return "fixed:" + input + ":" + output;
        }

        @Override
        public List<BenchRequest> requests(int n, long seed, int maxModelLen, Tokenizer vocabulary) {
            RandomPrompts tokens = new RandomPrompts(vocabulary, seed);
            int in = Math.min(input, maxModelLen - 1);
            int out = Math.min(output, maxModelLen - in);
            List<BenchRequest> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(new BenchRequest(tokens.next(in), out));
            }
            return list;
        }
    }

    record SharedPrefix(int shared, int unique, int output) implements ThroughputWorkload {
        public SharedPrefix {
            if (shared < 0 || unique < 0 || shared + unique < 1 || output < 1) {
                throw new PagodaException("workload prefix:" + shared + ":" + unique + ":" + output
                        + ": SHARED and UNIQUE must not be negative, their sum and OUT must be at least 1");
            }
        }

        @Override
        public String label() {
            return "prefix:" + shared + ":" + unique + ":" + output;
        }

        @Override
        public boolean sharesPrefix() {
            return true;
        }

        @Override
        public List<BenchRequest> requests(int n, long seed, int maxModelLen, Tokenizer vocabulary) {
            RandomPrompts tokens = new RandomPrompts(vocabulary, seed);
            int s = Math.min(shared, maxModelLen - 1);
            int u = Math.min(unique, maxModelLen - 1 - s);
            int out = Math.min(output, maxModelLen - s - u);
            int[] prefix = tokens.next(s);
            List<BenchRequest> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int[] prompt = Arrays.copyOf(prefix, s + u);
                System.arraycopy(tokens.next(u), 0, prompt, s, u);
                list.add(new BenchRequest(prompt, out));
            }
            return list;
        }
    }

    private static int[] numbers(String spec, String[] parts, int count) {
        if (parts.length != count + 1) {
            throw new PagodaException("workload '" + spec + "': expected " + USAGE);
        }
        int[] v = new int[count];
        for (int i = 0; i < count; i++) {
            try {
                v[i] = Integer.parseInt(parts[i + 1]);
            } catch (NumberFormatException e) {
                throw new PagodaException("workload '" + spec + "': '" + parts[i + 1] + "' is not a token count");
            }
        }
        return v;
    }
}
