package dev.pagoda.model;

import dev.pagoda.PagodaException;
import dev.pagoda.kernel.RopeStyle;
import dev.pagoda.kernel.RopeTable;
import java.util.Arrays;

/**
 * A rotary position embedding: base theta, which head elements pair up, and the rope scaling, which only
 * divides each pair's frequency ({@code freqDivisors}, one per pair, null for none) and may scale cos/sin by
 * {@code magnitude}. {@code scaling} names the scaling for {@code pagoda info} ("none", "llama3 x8", ...).
 */
public record Rope(float theta, RopeStyle style, float[] freqDivisors, float magnitude, String scaling) {
    /** The rope scaling types Pagoda computes, for error messages. */
    public static final String SUPPORTED_SCALING = "llama3, linear, dynamic, yarn, longrope/su (Phi-3)";

    public static Rope plain(float theta, RopeStyle style) {
        return new Rope(theta, style, null, 1f, "none");
    }

    public RopeTable table(int headDim, int maxPositions) {
        return new RopeTable(headDim, maxPositions, theta, freqDivisors, magnitude);
    }

    /** Position interpolation: every frequency divided by {@code factor}. */
    static Rope linear(float theta, RopeStyle style, int headDim, float factor) {
        float[] d = new float[headDim / 2];
        Arrays.fill(d, factor);
        return new Rope(theta, style, d, 1f, "linear x" + factor);
    }

    /**
     * Llama 3.1's rule: a pair whose wavelength 2π/θ_i is shorter than L0/high keeps its frequency, one longer than
     * L0/low is divided by {@code factor}, and in between the two blend with s = (L0/wavelength - low)/(high - low):
     * θ_i' = (1 - s)·θ_i/factor + s·θ_i.
     */
    static Rope llama3(float theta, RopeStyle style, int headDim, float factor, float low, float high, int originalContext) {
        float[] d = new float[headDim / 2];
        double lowWavelength = originalContext / low, highWavelength = originalContext / high;
        for (int i = 0; i < d.length; i++) {
            double freq = Math.pow(theta, -2.0 * i / headDim);
            double wavelength = 2 * Math.PI / freq;
            if (wavelength < highWavelength) {
                d[i] = 1f;
            } else if (wavelength > lowWavelength) {
                d[i] = factor;
            } else {
                double s = (originalContext / wavelength - low) / (high - low);
                d[i] = (float) (1 / ((1 - s) / factor + s));
            }
        }
        return new Rope(theta, style, d, 1f, "llama3 x" + factor + " (original context " + originalContext + ")");
    }

    /**
     * YaRN as Hugging Face computes it: pairs that rotate more than {@code betaFast} times over the original
     * context keep their frequency, those rotating fewer than {@code betaSlow} times are divided by {@code factor},
     * with a linear ramp over the pairs in between; cos/sin are scaled by the attention factor.
     */
    static Rope yarn(float theta, RopeStyle style, int headDim, float factor, int originalContext,
                     double betaFast, double betaSlow, float attentionFactor, boolean truncate) {
        double low = correctionDim(betaFast, headDim, theta, originalContext);
        double high = correctionDim(betaSlow, headDim, theta, originalContext);
        if (truncate) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, headDim - 1);
        if (low == high) {
            high += 0.001;
        }
        float[] d = new float[headDim / 2];
        for (int i = 0; i < d.length; i++) {
            double ramp = Math.clamp((i - low) / (high - low), 0.0, 1.0);
            double extrapolation = 1 - ramp;
            d[i] = (float) (1 / ((1 - extrapolation) / factor + extrapolation));
        }
        return new Rope(theta, style, d, attentionFactor, "yarn x" + factor + " (original context " + originalContext + ")");
    }

    /** The pair index at which a frequency makes {@code rotations} turns over {@code context} positions. */
    private static double correctionDim(double rotations, int headDim, float theta, int context) {
        return headDim * Math.log(context / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
    }

    /** YaRN's default attention factor for a scale factor: 0.1·mscale·ln(factor) + 1 (1 when not stretched). */
    static double yarnMscale(double factor, double mscale) {
        return factor <= 1 ? 1 : 0.1 * mscale * Math.log(factor) + 1;
    }

    /** Phi-3's LongRoPE ("su"): per-pair divisors given by the checkpoint, cos/sin scaled by the attention factor. */
    static Rope longrope(float theta, RopeStyle style, int headDim, float[] factors, float attentionFactor, String which) {
        if (factors.length != headDim / 2) {
            throw new PagodaException("longrope " + which + " factors have " + factors.length + " entries, the head needs " + headDim / 2);
        }
        return new Rope(theta, style, factors.clone(), attentionFactor, "longrope (" + which + " factors)");
    }

    /** LongRoPE's default attention factor: sqrt(1 + ln(scale) / ln(original context)), 1 when not stretched. */
    static float longropeAttentionFactor(int context, int originalContext) {
        double scale = (double) context / originalContext;
        return scale <= 1 ? 1f : (float) Math.sqrt(1 + Math.log(scale) / Math.log(originalContext));
    }

    @Override
    public String toString() {
        return "theta " + theta + ", " + style.name().toLowerCase() + " pairs" + ("none".equals(scaling) ? "" : ", scaling " + scaling);
    }
}
