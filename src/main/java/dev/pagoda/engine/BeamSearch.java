package dev.pagoda.engine;

import dev.pagoda.sampling.BeamSearchParams;
import dev.pagoda.sampling.TokenLogprobs;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;
import java.util.function.IntToDoubleFunction;

/** The selection rule of beam search, apart from where the beams' K/V live. */
final class BeamSearch {
    private BeamSearch() {
    }

    /** A continuation: beam {@code beam} extended by {@code token}, with the new cumulative logprob. */
    record Candidate(int beam, int token, double cumulativeLogprob) {
    }

    /** The continuations kept (at most the beam width, best first) and the hypotheses finished by EOS. */
    record Selection(List<Candidate> continued, List<Candidate> finished) {
    }

    /**
     * Ranks every beam's candidates by cumulative logprob (ties: lower beam, then lower token), then walks
     * them best first: an EOS candidate among the first {@code width} ranks finishes a hypothesis; other
     * candidates continue until {@code width} beams are kept.
     */
    static Selection select(int beams, IntToDoubleFunction cumulative, IntFunction<TokenLogprobs> candidates, int width,
                            IntPredicate isEos) {
        List<Candidate> all = new ArrayList<>();
        for (int b = 0; b < beams; b++) {
            TokenLogprobs c = candidates.apply(b);
            for (int i = 0; i < c.topIds().length; i++) {
                all.add(new Candidate(b, c.topIds()[i], cumulative.applyAsDouble(b) + c.topLogprobs()[i]));
            }
        }
        all.sort((x, y) -> {
            int byScore = Double.compare(y.cumulativeLogprob(), x.cumulativeLogprob());
            if (byScore != 0) {
                return byScore;
            }
            return x.beam() != y.beam() ? Integer.compare(x.beam(), y.beam()) : Integer.compare(x.token(), y.token());
        });
        List<Candidate> continued = new ArrayList<>();
        List<Candidate> finished = new ArrayList<>();
        for (int rank = 0; rank < all.size() && continued.size() < width; rank++) {
            Candidate c = all.get(rank);
            if (isEos.test(c.token())) {
                if (rank < width) {
                    finished.add(c);
                }
            } else {
                continued.add(c);
            }
        }
        return new Selection(continued, finished);
    }

    /**
     * Whether the search can stop: beam_width hypotheses are finished and (early_stopping false) no running beam,
     * scored at its current length, beats the worst of them. early_stopping never only stops at max_tokens.
     */
    static boolean done(BeamSearchParams p, List<RequestState.BeamHypothesis> hypotheses, double bestRunningCumulative, int runningLength) {
        if (hypotheses.size() < p.beamWidth()) {
            return false;
        }
        return switch (p.earlyStopping()) {
            case TRUE -> true;
            case NEVER -> false;
            case FALSE -> {
                double[] scores = hypotheses.stream().mapToDouble(RequestState.BeamHypothesis::score).sorted().toArray();
                double worstKept = scores[scores.length - p.beamWidth()];
                yield worstKept >= p.score(bestRunningCumulative, runningLength);
            }
        };
    }
}
