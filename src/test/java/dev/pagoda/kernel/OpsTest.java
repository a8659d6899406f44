package dev.pagoda.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Ops against straightforward scalar references (run.c's loops), with odd lengths to exercise the vector tails. */
class OpsTest {
    private final SplittableRandom rnd = new SplittableRandom(5);

    @Test
    void rmsnormMatchesRunC() {
        for (int n : new int[] {1, 15, 37, 768}) {
            float[] x = TestMatrices.gaussian(rnd, n + 2, 2f);
            float[] w = TestMatrices.gaussian(rnd, n, 1f);
            float[] out = new float[n + 1];
            Ops.rmsnorm(out, 1, x, 2, w, n, 1e-5f);
            float ss = 0;
            for (int j = 0; j < n; j++) {
                ss += x[2 + j] * x[2 + j];
            }
            ss /= n;
            ss += 1e-5f;
            ss = 1f / (float) Math.sqrt(ss);
            for (int j = 0; j < n; j++) {
                float want = w[j] * (ss * x[2 + j]);
                assertThat(out[1 + j]).isCloseTo(want, offset(2e-6f * Math.abs(want) + 1e-30f));
            }
        }
    }

    @Test
    void rmsnormInPlace() {
        float[] x = {3f, 4f};
        Ops.rmsnorm(x, 0, x, 0, new float[] {1f, 2f}, 2, 0f);
        float inv = 1f / (float) Math.sqrt(12.5f);
        assertThat(x).containsExactly(3f * inv, 2 * 4f * inv);
    }

    @Test
    void softmaxMatchesReferenceAndIsShiftInvariant() {
        float[] x = TestMatrices.gaussian(rnd, 103, 5f);
        float[] y = x.clone();
        Ops.softmax(y, 1, 101);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 1; i < 102; i++) {
            max = Math.max(max, x[i]);
        }
        double sum = 0;
        for (int i = 1; i < 102; i++) {
            sum += Math.exp(x[i] - max);
        }
        double total = 0;
        for (int i = 1; i < 102; i++) {
            assertThat((double) y[i]).isCloseTo(Math.exp(x[i] - max) / sum, offset(1e-6));
            total += y[i];
        }
        assertThat(total).isCloseTo(1.0, offset(1e-5));
        assertThat(y[0]).isEqualTo(x[0]);
        assertThat(y[102]).isEqualTo(x[102]);
        float[] big = {1000f, 1000f};  // max subtraction avoids overflow
        Ops.softmax(big, 0, 2);
        assertThat(big).containsExactly(0.5f, 0.5f);
    }

    @Test
    void siluMul() {
        float[] g = TestMatrices.gaussian(rnd, 45, 3f);
        float[] u = TestMatrices.gaussian(rnd, 45, 1f);
        float[] out = g.clone();
        Ops.siluMul(out, 2, u, 1, 40);
        for (int i = 0; i < 40; i++) {
            double gi = g[2 + i];
            double want = gi / (1 + Math.exp(-gi)) * u[1 + i];
            assertThat((double) out[2 + i]).isCloseTo(want, offset(1e-6 * (1 + Math.abs(want))));
        }
        assertThat(out[0]).isEqualTo(g[0]);
        assertThat(out[42]).isEqualTo(g[42]);
    }

    @Test
    void dotAxpyAdd() {
        for (int n : new int[] {0, 1, 17, 64, 100}) {
            float[] a = TestMatrices.gaussian(rnd, n + 3, 1f);
            float[] b = TestMatrices.gaussian(rnd, n + 1, 1f);
            double want = 0;
            double abs = 0;
            for (int i = 0; i < n; i++) {
                want += (double) a[3 + i] * b[1 + i];
                abs += Math.abs((double) a[3 + i] * b[1 + i]);
            }
            assertThat((double) Ops.dot(a, 3, b, 1, n)).isCloseTo(want, offset(1e-6 * abs + 1e-12));

            float[] y = b.clone();
            Ops.axpy(0.75f, a, 3, y, 1, n);
            for (int i = 0; i < n; i++) {
                assertThat(y[1 + i]).isEqualTo(Math.fma(a[3 + i], 0.75f, b[1 + i]));
            }
            float[] z = b.clone();
            Ops.add(z, 1, a, 3, n);
            for (int i = 0; i < n; i++) {
                assertThat(z[1 + i]).isEqualTo(b[1 + i] + a[3 + i]);
            }
            assertThat(y[0]).isEqualTo(b[0]);
        }
    }

    @Test
    void dotIsDeterministicAcrossRuns() {
        float[] a = TestMatrices.gaussian(rnd, 4099, 1f);
        float[] b = TestMatrices.gaussian(rnd, 4099, 1f);
        float first = Ops.dot(a, 0, b, 0, 4099);
        for (int i = 0; i < 20000; i++) {  // long enough for the JIT to compile it
            assertThat(Float.floatToRawIntBits(Ops.dot(a, 0, b, 0, 4099))).isEqualTo(Float.floatToRawIntBits(first));
        }
    }

    @Test
    void argmaxTakesLowestIndexOnTies() {
        float[] x = {9f, 1f, 5f, 3f, 5f, 2f};
        assertThat(Ops.argmax(x, 1, 5)).isEqualTo(1);
        assertThat(Ops.argmax(x, 0, 6)).isEqualTo(0);
        assertThat(Ops.argmax(new float[] {-1f, -1f}, 0, 2)).isEqualTo(0);
    }

    /** The vector argmax against the plain scan: ties (few distinct values), -0 against +0, infinities and NaNs. */
    @Test
    void argmaxMatchesTheScan() {
        float[] values = {-0f, 0f, 1f, -1f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 3f};
        for (int round = 0; round < 4000; round++) {
            int n = 1 + rnd.nextInt(70);
            int off = rnd.nextInt(3);
            float[] x = new float[off + n];
            int kinds = 2 + rnd.nextInt(values.length - 1);
            boolean nan = rnd.nextInt(4) == 0;
            for (int i = 0; i < x.length; i++) {
                float v = values[rnd.nextInt(kinds)];
                x[i] = Float.isNaN(v) && !nan ? 2f : v;
            }
            int want = 0;
            for (int i = 1; i < n; i++) {
                if (x[off + i] > x[off + want]) {
                    want = i;
                }
            }
            assertThat(Ops.argmax(x, off, n)).as("round %d", round).isEqualTo(want);
        }
    }
}
