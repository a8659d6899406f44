package dev.pagoda.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Encode/decode round trips per format, GGML's rounding rules, and the K-quant layouts on hand-made blocks. */
class QuantizeTest {
    private static float[] roundTrip(TensorType type, float[] values) {
        WeightMatrix w = TestMatrices.encode(type, values, 1, values.length);
        float[] back = new float[values.length];
        Dequant.row(w, 0, back, 0);
        return back;
    }

    @Test
    void f16IsJavasRoundToNearestEvenAndTheRowDecoderIsExactForAll65536Patterns() {
        float[] values = {0f, -0f, 1f, 1 + 0x1p-11f, 65504f, 1e-7f, -3.14159f};
        float[] back = roundTrip(TensorType.F16, values);
        for (int i = 0; i < values.length; i++) {
            assertThat(back[i]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(values[i])));
        }
        byte[] all = new byte[2 * 65536];
        MemorySegment s = MemorySegment.ofArray(all);
        for (int h = 0; h < 65536; h++) {
            s.set(Dequant.SHORT, 2L * h, (short) h);
        }
        WeightMatrix w = new WeightMatrix("all-f16", TensorType.F16, s, 1, 65536);
        MemorySegment out = Arena.ofAuto().allocate(4L * 65536);
        RowDecoder.decode(w, 0, out, 0, new float[65536]);
        for (int h = 0; h < 65536; h++) {
            float want = Float.float16ToFloat((short) h);
            float got = out.get(Dequant.FLOAT, 4L * h);
            if (Float.isNaN(want)) {
                assertThat(got).isNaN();
            } else {
                assertThat(Float.floatToRawIntBits(got)).as("f16 0x%04x", h).isEqualTo(Float.floatToRawIntBits(want));
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        float tieDown = Float.intBitsToFloat(0x3F808000);  // halfway between 0x3F80 and 0x3F81: to even 0x3F80
        float tieUp = Float.intBitsToFloat(0x3F818000);    // halfway between 0x3F81 and 0x3F82: to even 0x3F82
        float above = Float.intBitsToFloat(0x3F808001);
        assertThat(Quantize.floatToBf16(tieDown)).isEqualTo((short) 0x3F80);
        assertThat(Quantize.floatToBf16(tieUp)).isEqualTo((short) 0x3F82);
        assertThat(Quantize.floatToBf16(above)).isEqualTo((short) 0x3F81);
        assertThat(Float.isNaN(Dequant.bf16ToFloat(Quantize.floatToBf16(Float.NaN)))).isTrue();
        float[] values = TestMatrices.gaussian(new SplittableRandom(1), 1000, 3f);
        float[] back = roundTrip(TensorType.BF16, values);
        for (int i = 0; i < values.length; i++) {
            assertThat((double) Math.abs(back[i] - values[i])).isLessThanOrEqualTo(Math.abs(values[i]) * 0x1p-8);
        }
    }

    /** Q8_0: |error| <= d/2 + f16 rounding of d, d = amax/127; the block's largest element maps to +-127. */
    @Test
    void q8_0RoundTripWithinHalfAStep() {
        SplittableRandom rnd = new SplittableRandom(2);
        float[] values = TestMatrices.gaussian(rnd, 32 * 64, 1f);
        float[] back = roundTrip(TensorType.Q8_0, values);
        for (int b = 0; b < 64; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(values[32 * b + j]));
            }
            for (int j = 0; j < 32; j++) {
                int i = 32 * b + j;
                assertThat((double) Math.abs(back[i] - values[i])).isLessThanOrEqualTo(amax * (0.5 / 127 + 0x1p-11 * 1.01));
            }
        }
        // a hand-checked block: amax 127 gives d = 1, so values round half away from zero
        float[] block = new float[32];
        block[0] = 127f;
        block[1] = -2.5f;
        block[2] = 2.5f;
        block[3] = 0.49999997f;
        byte[] enc = Quantize.encode(TensorType.Q8_0, block);
        assertThat(MemorySegment.ofArray(enc).get(Dequant.SHORT, 0)).isEqualTo(Float.floatToFloat16(1f));
        assertThat(new byte[] {enc[2], enc[3], enc[4], enc[5]}).containsExactly(127, -3, 3, 0);
        assertThat(roundTrip(TensorType.Q8_0, new float[32])).containsOnly(0f);
    }

    /** Q4_0: d = max/-8 keeps the sign of the largest element; error <= d/2 except the clamped far end (one step). */
    @Test
    void q4_0RoundTripWithinAStep() {
        SplittableRandom rnd = new SplittableRandom(3);
        float[] values = TestMatrices.gaussian(rnd, 32 * 64, 1f);
        float[] back = roundTrip(TensorType.Q4_0, values);
        for (int b = 0; b < 64; b++) {
            float amax = 0;
            float max = 0;
            for (int j = 0; j < 32; j++) {
                float v = values[32 * b + j];
                if (Math.abs(v) > amax) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            for (int j = 0; j < 32; j++) {
                int i = 32 * b + j;
                double err = Math.abs(back[i] - values[i]);
                boolean clamped = values[i] / d > 7.5f;
                assertThat(err).isLessThanOrEqualTo(amax * ((clamped ? 1.0 / 8 : 1.0 / 16) + 0x1p-10));
            }
        }
        // hand-checked: max -8 gives d = 1; element j in the low nibble of byte j, j + 16 in the high nibble
        float[] block = new float[32];
        block[0] = -8f;
        block[1] = 3f;
        block[16] = 7.4f;
        block[17] = 8f;  // 16.5 -> clamped to 15 -> 7
        byte[] enc = Quantize.encode(TensorType.Q4_0, block);
        assertThat(enc[2] & 0xFF).isEqualTo(0x0F << 4);
        assertThat(enc[3] & 0xFF).isEqualTo((15 << 4) | 11);
        float[] back2 = roundTrip(TensorType.Q4_0, block);
        assertThat(back2[0]).isEqualTo(-8f);
        assertThat(back2[1]).isEqualTo(3f);
        assertThat(back2[16]).isEqualTo(7f);
        assertThat(back2[17]).isEqualTo(7f);
        assertThat(back2[2]).isEqualTo(0f);
    }

    private static float[] decodeOneBlock(TensorType type, byte[] block) {
        WeightMatrix w = new WeightMatrix("k", type, MemorySegment.ofArray(block), 1, 256);
        float[] out = new float[256];
        Dequant.row(w, 0, out, 0);
        return out;
    }

    /** Q4_K: d=1, dmin=0.5; 6-bit (scale, min) pairs, sub-blocks 4..7 take 2 high bits from bytes 0..7. */
    @Test
    void q4_KLayout() {
        byte[] b = new byte[144];
        MemorySegment s = MemorySegment.ofArray(b);
        s.set(Dequant.SHORT, 0, Float.floatToFloat16(1f));
        s.set(Dequant.SHORT, 2, Float.floatToFloat16(0.5f));
        b[4] = (byte) (2 | 1 << 6);  // scale0 = 2; bits 6-7 = high bits of scale4
        b[5] = 4;                     // scale1 = 4
        b[8] = 3;                     // min0 = 3
        b[9] = 1;                     // min1 = 1
        b[12] = 0x21;                 // scale4 low = 1 (| 1 << 4 -> 17), min4 low = 2
        b[16] = 0x5A;                 // element 0 = 10 (low nibble, sub-block 0), element 32 = 5 (high, sub-block 1)
        b[16 + 64] = 0x03;            // element 128 = 3 (low nibble of group 2, sub-block 4)
        float[] y = decodeOneBlock(TensorType.Q4_K, b);
        assertThat(y[0]).isEqualTo(2 * 10 - 0.5f * 3);
        assertThat(y[32]).isEqualTo(4 * 5 - 0.5f * 1);
        assertThat(y[128]).isEqualTo(17 * 3 - 0.5f * 2);
        assertThat(y[1]).isEqualTo(-0.5f * 3);
    }

    /** Q6_K: ql (128), qh (64), int8 scales (16), f16 d; x = d * scale * (q - 32). */
    @Test
    void q6_KLayout() {
        byte[] b = new byte[210];
        MemorySegment s = MemorySegment.ofArray(b);
        s.set(Dequant.SHORT, 208, Float.floatToFloat16(1f));
        b[0] = 0x21;                 // ql[0]: low 1 (element 0), high 2 (element 64)
        b[128] = 0x1B;               // qh[0]: bits 0-1 = 3 (el 0), 2-3 = 2 (el 32), 4-5 = 1 (el 64), 6-7 = 0 (el 96)
        b[192] = -2;                 // scale of elements 0..15
        b[192 + 1] = 7;              // scale of elements 16..31
        b[192 + 4] = 3;              // elements 64..79
        b[192 + 6] = 1;              // elements 96..111
        b[192 + 2] = 9;              // elements 32..47
        b[64] = 0x0F;                // second half: ql[64] low = 15 (element 128)
        b[192 + 8] = 5;              // scale of elements 128..143
        float[] y = decodeOneBlock(TensorType.Q6_K, b);
        assertThat(y[0]).isEqualTo(-2f * ((1 | 3 << 4) - 32));
        assertThat(y[32]).isEqualTo(9f * ((2 << 4) - 32));
        assertThat(y[64]).isEqualTo(3f * ((2 | 1 << 4) - 32));
        assertThat(y[96]).isEqualTo(1f * (0 - 32));
        assertThat(y[16]).isEqualTo(7f * -32);
        assertThat(y[128]).isEqualTo(5f * (15 - 32));
    }

    /** Q5_K: Q4_K's header, qh (32) before the nibbles; the fifth bit of nibble group g is bit 2g (low) / 2g+1 (high) of qh[l]. */
    @Test
    void q5_KLayout() {
        byte[] b = new byte[176];
        MemorySegment s = MemorySegment.ofArray(b);
        s.set(Dequant.SHORT, 0, Float.floatToFloat16(1f));
        s.set(Dequant.SHORT, 2, Float.floatToFloat16(0.5f));
        b[4] = 2;                     // scale0 = 2
        b[5] = 4;                     // scale1 = 4
        b[6] = 1;                     // scale2 = 1
        b[8] = 3;                     // min0 = 3
        b[16] = 0x01 | 0x02 | 0x10;   // qh[0]: element 0 (+16), element 32 (+16), group 2 low nibble = element 128 (+16)
        b[48] = 0x5A;                 // element 0 = 10 | 16, element 32 = 5 | 16
        b[48 + 32] = 0x07;            // element 64 = 7 (group 1, no fifth bit)
        float[] y = decodeOneBlock(TensorType.Q5_K, b);
        assertThat(y[0]).isEqualTo(2 * 26 - 0.5f * 3);
        assertThat(y[32]).isEqualTo(4 * 21f);
        assertThat(y[64]).isEqualTo(1 * 7f);
        assertThat(y[1]).isEqualTo(-0.5f * 3);
    }

    /** Q5_0: f16 d, 32 high bits (bit j for element j), nibbles as in Q4_0; x = d * (q - 16). */
    @Test
    void q5_0Layout() {
        byte[] b = new byte[22];
        MemorySegment s = MemorySegment.ofArray(b);
        s.set(Dequant.SHORT, 0, Float.floatToFloat16(0.5f));
        s.set(Dequant.INT, 2, 1 | 1 << 17);  // high bits of element 0 and element 17
        b[6] = 0x3F;                          // element 0 = 15 | 16, element 16 = 3
        b[7] = 0x20;                          // element 1 = 0, element 17 = 2 | 16
        WeightMatrix w = new WeightMatrix("q5_0", TensorType.Q5_0, s, 1, 32);
        float[] y = new float[32];
        Dequant.row(w, 0, y, 0);
        assertThat(y[0]).isEqualTo(0.5f * (31 - 16));
        assertThat(y[16]).isEqualTo(0.5f * (3 - 16));
        assertThat(y[1]).isEqualTo(0.5f * -16);
        assertThat(y[17]).isEqualTo(0.5f * (18 - 16));
    }

    /**
     * The K-quant encoders: every element within one ideal quantization step of its sub-block (Q4_K: its range / 15
     * over 32 elements; Q5_K: its range / 31; Q6_K: its largest magnitude / 31 over 16), i.e. half a step plus the
     * rounding of the scales.
     */
    @Test
    void kQuantEncodersStayWithinAStepOfTheirSubBlock() {
        SplittableRandom rnd = new SplittableRandom(5);
        float[] values = TestMatrices.gaussian(rnd, 4 * 256, 0.02f);
        values[3] = 0.5f;   // an outlier widens one sub-block
        values[300] = -0.3f;
        for (TensorType type : new TensorType[] {TensorType.Q4_K, TensorType.Q5_K, TensorType.Q6_K}) {
            int sub = type == TensorType.Q6_K ? 16 : 32;
            float[] back = roundTrip(type, values);
            for (int j = 0; j < values.length / sub; j++) {
                float mn = 0, mx = 0, amax = 0;
                for (int i = j * sub; i < (j + 1) * sub; i++) {
                    mn = Math.min(mn, values[i]);
                    mx = Math.max(mx, values[i]);
                    amax = Math.max(amax, Math.abs(values[i]));
                }
                double step = switch (type) {
                    case Q4_K -> (mx - mn) / 15.0;
                    case Q5_K -> (mx - mn) / 31.0;
                    default -> amax / 31.0;
                };
                for (int i = j * sub; i < (j + 1) * sub; i++) {
                    assertThat((double) Math.abs(back[i] - values[i])).as("%s element %d", type, i).isLessThanOrEqualTo(step);
                }
            }
        }
    }
}
