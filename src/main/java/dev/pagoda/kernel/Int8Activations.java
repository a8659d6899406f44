package dev.pagoda.kernel;

/**
 * A chunk of tokens' activations quantized to int8 for the K-quant tiles ({@link Q4KTile}, {@link Q6KTile}), once per
 * matmul call and thread: per block of 32 columns a power-of-two scale and integers {@code q = round(x / scale)} in
 * [-127, 127] (as llama.cpp's Q8_K activations, but a power of two: 127 or fewer steps where llama.cpp has 127, and
 * scaling by it is exact, so a product of integer sums and scales is a product of the dequantized values). Integers go
 * in pairs of int16 per int (column 2k low, 2k + 1 high): one broadcast gives a tile both columns of a pair, whose
 * weights the panels interleave row by row. Also, per block, the float sum of the unquantized activations (Q4_K's
 * mins multiply it). Grown on demand; never per call once warm.
 */
final class Int8Activations {
    /** Columns per block (one scale): Q4_K's sub-block, two of Q6_K's groups. */
    static final int BLOCK = 32;
    private static final ThreadLocal<Int8Activations> OF_THREAD = ThreadLocal.withInitial(Int8Activations::new);

    /** Token t's columns 2k, 2k + 1 at pairs[t * cols/2 + k]. */
    int[] pairs = new int[0];
    /** Token t's block b scale at scales[t * cols/32 + b]. */
    float[] scales = new float[0];
    /** Token t's block b activation sum, added in column order from 0, at sums[t * cols/32 + b]. */
    float[] sums = new float[0];

    private Int8Activations() {
    }

    /** The calling thread's activations of tokens [t0, t1) of x (token t at xb + t*cols), token t0 first. */
    static Int8Activations of(float[] x, int xb, int cols, int t0, int t1) {
        Int8Activations a = OF_THREAD.get();
        int blocks = (t1 - t0) * (cols / BLOCK);
        if (a.scales.length < blocks) {
            a.pairs = new int[blocks * (BLOCK / 2)];
            a.scales = new float[blocks];
            a.sums = new float[blocks];
        }
        for (int b = 0; b < blocks; b++) {
            a.block(x, xb + t0 * cols + BLOCK * b, b);
        }
        return a;
    }

    private void block(float[] x, int k, int b) {
        float amax = 0, sum = 0;
        for (int c = 0; c < BLOCK; c++) {
            amax = Math.max(amax, Math.abs(x[k + c]));
            sum += x[k + c];
        }
        sums[b] = sum;
        // the least power of two 2^e with amax / 2^e <= 127 (so no |q| exceeds 127)
        int e = amax == 0 ? 0 : Math.getExponent(amax) - 6;
        if (Math.scalb(amax, -e) > 127) {
            e++;
        }
        scales[b] = Math.scalb(1f, e);
        for (int c = 0; c < BLOCK; c += 2) {
            int lo = Math.round(Math.scalb(x[k + c], -e)), hi = Math.round(Math.scalb(x[k + c + 1], -e));
            pairs[(BLOCK / 2) * b + c / 2] = (lo & 0xFFFF) | hi << 16;
        }
    }
}
