package dev.pagoda.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RopeTableTest {
    private static final int HEAD_DIM = 8;
    private static final float THETA = 10000f;

    /** The rotation in double: pair i turns by pos * theta^(-2i/headDim). */
    private static void reference(double[] v, int off, int pos, RopeStyle style) {
        int half = HEAD_DIM / 2;
        for (int i = 0; i < half; i++) {
            double angle = pos * Math.pow(THETA, -2.0 * i / HEAD_DIM);
            int a = style == RopeStyle.INTERLEAVED ? off + 2 * i : off + i;
            int b = style == RopeStyle.INTERLEAVED ? a + 1 : a + half;
            double x0 = v[a];
            double x1 = v[b];
            v[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
            v[b] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
        }
    }

    @Test
    void bothStylesMatchTheRotationFormula() {
        RopeTable rope = new RopeTable(HEAD_DIM, 64, THETA);
        SplittableRandom rnd = new SplittableRandom(9);
        for (RopeStyle style : RopeStyle.values()) {
            for (int pos : new int[] {0, 1, 5, 63}) {
                int heads = 3;
                float[] v = TestMatrices.gaussian(rnd, 1 + heads * HEAD_DIM, 1f);
                double[] want = new double[v.length];
                for (int i = 0; i < v.length; i++) {
                    want[i] = v[i];
                }
                for (int h = 0; h < heads; h++) {
                    reference(want, 1 + h * HEAD_DIM, pos, style);
                }
                rope.apply(v, 1, heads, HEAD_DIM, pos, style);
                for (int i = 0; i < v.length; i++) {
                    assertThat((double) v[i]).as("%s pos %d [%d]", style, pos, i).isCloseTo(want[i], offset(1e-5));
                }
            }
        }
    }

    @Test
    void halfStyleIsInterleavedOnPermutedElements() {
        RopeTable rope = new RopeTable(HEAD_DIM, 16, THETA);
        float[] interleaved = TestMatrices.gaussian(new SplittableRandom(4), HEAD_DIM, 1f);
        float[] half = new float[HEAD_DIM];
        for (int i = 0; i < HEAD_DIM / 2; i++) {
            half[i] = interleaved[2 * i];
            half[i + HEAD_DIM / 2] = interleaved[2 * i + 1];
        }
        rope.apply(interleaved, 0, 1, HEAD_DIM, 7, RopeStyle.INTERLEAVED);
        rope.apply(half, 0, 1, HEAD_DIM, 7, RopeStyle.HALF);
        for (int i = 0; i < HEAD_DIM / 2; i++) {
            assertThat(half[i]).isEqualTo(interleaved[2 * i]);
            assertThat(half[i + HEAD_DIM / 2]).isEqualTo(interleaved[2 * i + 1]);
        }
    }

    @Test
    void rejectsPositionsOutsideTheTable() {
        RopeTable rope = new RopeTable(HEAD_DIM, 4, THETA);
        assertThatThrownBy(() -> rope.apply(new float[HEAD_DIM], 0, 1, HEAD_DIM, 4, RopeStyle.HALF))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
