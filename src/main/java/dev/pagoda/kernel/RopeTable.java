package dev.pagoda.kernel;

/**
 * Precomputed cos/sin of the rotary position embedding for positions {@code [0, maxPositions)}:
 * angle(pos, i) = pos * theta^(-2i/headDim) / divisor[i] for pair i < headDim/2, computed in float like llama2.c.
 * Rope scaling changes only the per-pair divisors (1 without scaling) and may scale cos and sin by a
 * magnitude (YaRN's and LongRoPE's attention factor; 1 otherwise).
 */
public final class RopeTable {
    private final int headDim;
    private final int maxPositions;
    private final float[] cos;
    private final float[] sin;

    public RopeTable(int headDim, int maxPositions, float theta) {
        this(headDim, maxPositions, theta, null, 1f);
    }

    /** @param freqDivisors one divisor per rotary pair (headDim / 2), or null for none */
    public RopeTable(int headDim, int maxPositions, float theta, float[] freqDivisors, float magnitude) {
        if (headDim <= 0 || headDim % 2 != 0 || maxPositions <= 0) {
            throw new IllegalArgumentException("rope needs an even headDim > 0 and maxPositions > 0, got " + headDim + ", " + maxPositions);
        }
        if (freqDivisors != null && freqDivisors.length != headDim / 2) {
            throw new IllegalArgumentException("rope needs " + headDim / 2 + " frequency divisors, got " + freqDivisors.length);
        }
        this.headDim = headDim;
        this.maxPositions = maxPositions;
        int half = headDim / 2;
        cos = new float[maxPositions * half];
        sin = new float[maxPositions * half];
        for (int i = 0; i < half; i++) {
            float freq = 1f / (float) Math.pow(theta, 2 * i / (float) headDim);
            if (freqDivisors != null) {
                freq /= freqDivisors[i];
            }
            for (int pos = 0; pos < maxPositions; pos++) {
                float angle = pos * freq;
                cos[pos * half + i] = (float) Math.cos(angle) * magnitude;
                sin[pos * half + i] = (float) Math.sin(angle) * magnitude;
            }
        }
    }

    public int headDim() {
        return headDim;
    }

    public int maxPositions() {
        return maxPositions;
    }

    /** Rotates {@code nHeads} heads of {@code headDim} floats at {@code v[off..]} in place for position {@code pos}. */
    public void apply(float[] v, int off, int nHeads, int headDim, int pos, RopeStyle style) {
        if (headDim != this.headDim || pos < 0 || pos >= maxPositions) {
            throw new IllegalArgumentException("rope table for headDim " + this.headDim + ", " + maxPositions
                    + " positions; asked headDim " + headDim + ", position " + pos);
        }
        int half = headDim / 2;
        int row = pos * half;
        // INTERLEAVED pairs (2i, 2i+1); HALF pairs (i, i+half)
        int stride = style == RopeStyle.INTERLEAVED ? 2 : 1;
        int partner = style == RopeStyle.INTERLEAVED ? 1 : half;
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                int a = base + stride * i;
                int b = a + partner;
                float c = cos[row + i];
                float s = sin[row + i];
                float v0 = v[a];
                float v1 = v[b];
                v[a] = v0 * c - v1 * s;
                v[b] = v0 * s + v1 * c;
            }
        }
    }
}
