package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import java.util.Locale;

/** Which kind of KV block sharing {@link SharingBench} measures against the same run without it. */
public sealed interface BlockSharing {
    /** A short description for the table. */
    String label();

    /** The JSON name of the mode. */
    String key();

    /** Name of the run without sharing. */
    String withoutLabel();

    /** Name of the run with sharing. */
    String withLabel();

    /** Sequences a request runs at once (its samples or beams). */
    default int sequences() {
        return 1;
    }

    /**
     * Parallel sampling: a request's prompt is admitted once and forked into {@code n} samples (the blocks shared,
     * copy-on-write on the last partial one); each sample generates its own number of tokens (the first the
     * request's output length, the others drawn from the workload's output distribution). Without sharing,
     * the request is {@code n} independent sequences, each holding its own copy of the prompt.
     */
    record ParallelSampling(int n) implements BlockSharing {
        public ParallelSampling {
            if (n < 1) {
                throw new PagodaException("--n must be >= 1, got " + n);
            }
        }

        @Override
        public String label() {
            return "parallel sampling, n = " + n;
        }

        @Override
        public int sequences() {
            return n;
        }

        @Override
        public String key() {
            return "parallel_sampling";
        }

        @Override
        public String withoutLabel() {
            return "no sharing";
        }

        @Override
        public String withLabel() {
            return "sharing";
        }
    }

    /**
     * Beam search of {@code width} beams with a seeded stand-in for the model's scores: at every step each of
     * the {@code width} new beams picks its parent among the current beams, ranked best first, the beam of rank
     * r with probability proportional to {@code parentDecay^r}; the new beams are ranked by their parents' rank.
     * A parent picked k times is forked k - 1 times, a beam picked by nobody is freed at once. Whatever the
     * decay (1 picks parents uniformly), the beams' lineages merge within a few steps, so, as in real beam search,
     * they share all but a short recent history; a smaller decay shortens it further (the default: most new beams
     * descend from the best one or two). The savings depend on the decay only slightly. Without sharing every beam holds a private copy of its whole history
     * (prompt + generated), so a fork copies all of it. All beams of a request generate its output length.
     */
    record BeamSearch(int width, double parentDecay) implements BlockSharing {
        public static final double DEFAULT_PARENT_DECAY = 0.5;

        public BeamSearch {
            if (width < 1) {
                throw new PagodaException("--beam-width must be >= 1, got " + width);
            }
            if (!(parentDecay > 0 && parentDecay <= 1)) {
                throw new PagodaException("--beam-parent-decay must be in (0, 1], got " + parentDecay);
            }
        }

        @Override
        public String label() {
            return String.format(Locale.ROOT, "beam search, width %d, parent decay %.2f", width, parentDecay);
        }

        @Override
        public String key() {
            return "beam_search";
        }

        @Override
        public int sequences() {
            return width;
        }

        @Override
        public String withoutLabel() {
            return "no sharing";
        }

        @Override
        public String withLabel() {
            return "sharing";
        }
    }

    /**
     * Automatic prefix caching: a new request reuses the cached full blocks of its longest cached prefix
     * (blocks cached once a step has computed them, as the scheduler does), against the same run with prefix
     * caching off.
     */
    record PrefixCaching() implements BlockSharing {
        @Override
        public String label() {
            return "prefix caching";
        }

        @Override
        public String key() {
            return "prefix_caching";
        }

        @Override
        public String withoutLabel() {
            return "caching off";
        }

        @Override
        public String withLabel() {
            return "caching on";
        }
    }
}
