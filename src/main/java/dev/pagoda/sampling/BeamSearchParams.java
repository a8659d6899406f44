package dev.pagoda.sampling;

import dev.pagoda.InvalidParameterException;
import java.util.Locale;

/**
 * Beam search (vLLM/Hugging Face semantics): keep the {@code beamWidth} best partial sequences by cumulative
 * log-probability; a finished hypothesis is scored cumulative_logprob / length^lengthPenalty (length counts
 * the prompt, not a final EOS).
 *
 * @param earlyStopping true: stop as soon as beamWidth hypotheses are finished; false: stop when no running
 *                      beam can still beat the worst kept hypothesis at its current length; never: only at
 *                      max_tokens or when every beam is finished
 */
public record BeamSearchParams(int beamWidth, float lengthPenalty, EarlyStopping earlyStopping, int maxTokens, boolean ignoreEos) {
    public enum EarlyStopping {
        TRUE, FALSE, NEVER;

        public static EarlyStopping parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "true" -> TRUE;
                case "false" -> FALSE;
                case "never" -> NEVER;
                default -> throw new InvalidParameterException("early_stopping", "early_stopping must be true, false or never, got '" + s + "'");
            };
        }
    }

    public BeamSearchParams {
        if (beamWidth < 1 || beamWidth > 64) {
            throw new InvalidParameterException("beam_width", "beam_width must be in [1, 64], got " + beamWidth);
        }
        if (!Float.isFinite(lengthPenalty)) {
            throw new InvalidParameterException("length_penalty", "length_penalty must be finite, got " + lengthPenalty);
        }
        if (maxTokens < 1) {
            throw new InvalidParameterException("max_tokens", "max_tokens must be at least 1, got " + maxTokens);
        }
    }

    /** The score of a hypothesis of {@code length} tokens (prompt included, final EOS excluded). */
    public double score(double cumulativeLogprob, int length) {
        return cumulativeLogprob / Math.pow(length, lengthPenalty);
    }
}
