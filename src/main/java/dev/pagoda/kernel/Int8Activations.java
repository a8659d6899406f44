package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A chunk of tokens' activations quantized to int8 for the Q4_0 and K-quant tiles ({@link Q4_0Tile}, {@link Q4KTile}, {@link Q6KTile}), once per
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
    /** L int16 lanes: L quantized activations narrowed from int32. */
    private static final VectorSpecies<Short> HALF = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final float ROUND = 0x1.8p23f;
    private static final ThreadLocal<Int8Activations> OF_THREAD = ThreadLocal.withInitial(Int8Activations::new);

    /** Token t's columns 2k, 2k + 1 at pairs[t * cols/2 + k]. */
    int[] pairs = new int[0];
    /** Token t's block b scale at scales[t * cols/32 + b]. */
    float[] scales = new float[0];
    /** Token t's block b activation sum, added in column order from 0, at sums[t * cols/32 + b]. */
    float[] sums = new float[0];
    /** Token t's block b sum of the integers q, at qsums[t * cols/32 + b] (Q5_K's tiles offset their quants by it). */
    int[] qsums = new int[0];
    /** What these are: tokens [first, end) of matmul call {@code call} ({@link MatMulCall#call}). */
    private long call = -1;
    private int first, end;

    private Int8Activations() {
    }

    /**
     * The calling thread's activations of tokens [t0, t1) of x (token t at xb + t*cols), token t0 first, for matmul
     * call {@code call}: quantized once per call and thread, though the thread runs several chunks of its rows.
     */
    static Int8Activations of(float[] x, int xb, int cols, int t0, int t1, long call) {
        Int8Activations a = OF_THREAD.get();
        if (a.call == call && a.first == t0 && a.end == t1) {
            return a;
        }
        a.call = call;
        a.first = t0;
        a.end = t1;
        int blocks = (t1 - t0) * (cols / BLOCK);
        if (a.scales.length < blocks) {
            a.pairs = new int[blocks * (BLOCK / 2)];
            a.scales = new float[blocks];
            a.sums = new float[blocks];
            a.qsums = new int[blocks];
        }
        for (int b = 0; b < blocks; b++) {
            a.block(x, xb + t0 * cols + BLOCK * b, b);
        }
        return a;
    }

    private void block(float[] x, int k, int b) {
        float sum = 0;
        for (int c = 0; c < BLOCK; c++) {
            sum += x[k + c];
        }
        sums[b] = sum;
        FloatVector max = FloatVector.zero(F);
        for (int c = 0; c < BLOCK; c += L) {
            max = max.max(FloatVector.fromArray(F, x, k + c).abs());
        }
        float amax = max.reduceLanes(VectorOperators.MAX);
        // the least power of two 2^e with amax / 2^e <= 127 (so no |q| exceeds 127)
        int e = amax == 0 ? 0 : Math.max(-149, floorLog2(amax) - 6);
        if (Math.scalb(amax, -e) > 127) {
            e++;
        }
        scales[b] = Math.scalb(1f, e);
        if (e < -120) {
            // 2^-e is past float's range: scale each value alone (exact: a power of two brings it into range)
            int qsum = 0;
            for (int c = 0; c < BLOCK; c += 2) {
                int lo = Math.round(Math.scalb(x[k + c], -e)), hi = Math.round(Math.scalb(x[k + c + 1], -e));
                pairs[(BLOCK / 2) * b + c / 2] = (lo & 0xFFFF) | hi << 16;
                qsum += lo + hi;
            }
            qsums[b] = qsum;
            return;
        }
        // x / 2^e is exact, at most 127 in magnitude: adding and subtracting 1.5 * 2^23 rounds it to the nearest integer
        FloatVector inverse = FloatVector.broadcast(F, Math.scalb(1f, -e));
        int qsum = 0;
        for (int c = 0; c < BLOCK; c += L) {
            IntVector q = (IntVector) FloatVector.fromArray(F, x, k + c).mul(inverse).add(ROUND).sub(ROUND).convert(VectorOperators.F2I, 0);
            qsum += q.reduceLanes(VectorOperators.ADD);
            // L int16 lanes read as L/2 ints: columns 2m low, 2m + 1 high
            ((ShortVector) q.convertShape(VectorOperators.I2S, HALF, 0)).reinterpretAsInts().intoArray(pairs, (BLOCK / 2) * b + c / 2);
        }
        qsums[b] = qsum;
    }

    /** floor(log2(v)) for a positive finite v, subnormal too. */
    private static int floorLog2(float v) {
        int e = Math.getExponent(v);
        return e >= Float.MIN_EXPONENT ? e : Float.MIN_EXPONENT - 23 + 31 - Integer.numberOfLeadingZeros(Float.floatToRawIntBits(v));
    }
}
