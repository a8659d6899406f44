package dev.pagoda.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Activations quantized per 32 columns: the least power-of-two step that keeps |q| <= 127, each value within half a step. */
class Int8ActivationsTest {
    @Test
    void eachValueWithinHalfTheLeastPowerOfTwoStep() {
        SplittableRandom rnd = new SplittableRandom(5);
        int cols = 64, tokens = 7;
        // magnitudes from subnormal to large, and an all-zero block
        float[] magnitudes = {1e-40f, 1e-37f, 3e-30f, 1e-3f, 1f, 127f, 5e4f, 1e30f};
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            int block = i / Int8Activations.BLOCK;
            x[i] = block == 3 ? 0 : (float) rnd.nextGaussian() * magnitudes[block % magnitudes.length];
        }
        Int8Activations a = Int8Activations.of(x, 0, cols, 0, tokens, -2);
        for (int b = 0; b < x.length / Int8Activations.BLOCK; b++) {
            float step = a.scales[b];
            float sum = 0, amax = 0;
            for (int c = 0; c < Int8Activations.BLOCK; c++) {
                int k = Int8Activations.BLOCK * b + c;
                int pair = a.pairs[k / 2];
                int q = (short) (k % 2 == 0 ? pair : pair >> 16);
                assertThat(Math.abs(q)).as("block %d column %d", b, c).isLessThanOrEqualTo(127);
                assertThat(Math.abs((double) q * step - x[k])).as("block %d column %d", b, c).isLessThanOrEqualTo(step / 2.0);
                sum += x[k];
                amax = Math.max(amax, Math.abs(x[k]));
            }
            assertThat(a.sums[b]).isEqualTo(sum);
            int bits = Float.floatToRawIntBits(step);
            // a normal power of two has no mantissa bits; a subnormal one, one bit in all
            assertThat((bits & 0x7F800000) != 0 ? (bits & 0x7FFFFF) == 0 : Integer.bitCount(bits) == 1).as("block %d: %s a power of two", b, step).isTrue();
            if (amax > 0 && step > Float.MIN_VALUE) {
                assertThat((double) amax / step).as("block %d: no smaller step would do", b).isGreaterThan(63.5);
            }
        }
        // the same call's tokens again are the ones prepared; another call's are quantized anew
        float first = x[0];
        x[0] = 3 * first + 1;
        assertThat(Int8Activations.of(x, 0, cols, 0, tokens, -2)).isSameAs(a);
        assertThat(a.sums[0]).isNotEqualTo(sumOfBlock(x, 0));
        Int8Activations.of(x, 0, cols, 0, tokens, -3);
        assertThat(a.sums[0]).isEqualTo(sumOfBlock(x, 0));
        x[0] = first;
    }

    private static float sumOfBlock(float[] x, int b) {
        float sum = 0;
        for (int c = 0; c < Int8Activations.BLOCK; c++) {
            sum += x[Int8Activations.BLOCK * b + c];
        }
        return sum;
    }
}
