package dev.pagoda.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagoda.PagodaException;
import dev.pagoda.TestData;
import dev.pagoda.attention.DenseKvAttention;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** A synth: model built in memory is the model {@code pagoda synth} writes, bit for bit. */
class SyntheticModelBuilderTest {
    private static final String TEXT = "Once upon a héllo 12!";

    @ParameterizedTest
    @ValueSource(strings = {"f32", "q8_0", "q4_k_m", "q5_k_m"})
    void inMemoryModelComputesTheLogitsOfTheWrittenFile(String dtype) {
        Path file = TestData.scratch("synth").resolve("tiny-" + dtype + "-7.gguf");
        SyntheticModel.write(SyntheticShape.TINY, SyntheticDtype.parse(dtype), 7, file);
        try (Model fromFile = ModelLoader.open(file); Model inMemory = ModelLoader.load("synth:tiny:" + dtype + ":7")) {
            assertThat(inMemory.config()).isEqualTo(fromFile.config());
            assertThat(inMemory.name()).isEqualTo(fromFile.name());
            assertThat(inMemory.format()).isEqualTo("synthetic");
            assertThat(inMemory.stopTokens()).containsExactly(fromFile.stopTokens());
            assertThat(inMemory.weights().tiedEmbeddings()).isTrue();

            List<WeightMatrix> a = inMemory.weights().matrices().toList(), b = fromFile.weights().matrices().toList();
            assertThat(a).hasSameSizeAs(b);
            for (int i = 0; i < a.size(); i++) {
                assertThat(a.get(i).type()).as(a.get(i).name()).isEqualTo(b.get(i).type());
                assertThat(a.get(i).data().mismatch(b.get(i).data())).as(a.get(i).name()).isEqualTo(-1L);
            }
            if (dtype.equals("q8_0")) {
                // ffn_down rows of 172 are not whole Q8_0 blocks: F16, as in the file.
                assertThat(a).extracting(WeightMatrix::type).contains(TensorType.Q8_0, TensorType.F16);
            }

            int[] prompt = fromFile.tokenizer().encode(TEXT, true, false);
            assertThat(inMemory.tokenizer().encode(TEXT, true, false)).containsExactly(prompt);
            assertThat(inMemory.tokenizer().decode(prompt, true)).isEqualTo(TEXT);
            float[] expected = allLogits(fromFile, prompt);
            float[] actual = allLogits(inMemory, prompt);
            assertThat(actual).as("logits bit for bit").isEqualTo(expected);
        }
    }

    @Test
    void sameSpecSameWeightsOtherSeedOtherWeights() {
        try (Model a = ModelLoader.load("synth:tiny:f32"); Model b = ModelLoader.load("synth:tiny:f32:0");
             Model c = ModelLoader.load("synth:tiny:f32:1")) {
            assertThat(a.weights().tokenEmbedding().data().mismatch(b.weights().tokenEmbedding().data())).isEqualTo(-1L);
            assertThat(a.weights().tokenEmbedding().data().mismatch(c.weights().tokenEmbedding().data())).isNotEqualTo(-1L);
        }
    }

    @Test
    void badSpecsAreOneLineErrors() {
        assertThatThrownBy(() -> ModelLoader.load("synth:huge:f32")).isInstanceOf(PagodaException.class)
                .hasMessageContaining("unknown shape 'huge'");
        assertThatThrownBy(() -> ModelLoader.load("synth:tiny:q3_k")).isInstanceOf(PagodaException.class)
                .hasMessageContaining("unknown dtype 'q3_k'");
        assertThatThrownBy(() -> ModelLoader.load("synth:tiny")).isInstanceOf(PagodaException.class)
                .hasMessageContaining("expected synth:SHAPE:DTYPE[:SEED]");
        assertThatThrownBy(() -> ModelLoader.load("synth:tiny:f32:x")).isInstanceOf(PagodaException.class)
                .hasMessageContaining("seed 'x' is not an integer");
    }

    /**
     * The same random weights quantized: logits stay close to the F32 twin's, within each format's error
     * (measured relative L2 errors: Q8_0 0.008, Q4_0 0.147, F16 0.0004, BF16 0.0034; bounds about 2.5x those).
     */
    @ParameterizedTest
    @ValueSource(strings = {"q8_0:0.02", "q4_0:0.25", "f16:0.002", "bf16:0.02"})
    void quantizedTwinGivesCloseLogits(String typeAndTolerance) {
        String[] tt = typeAndTolerance.split(":");
        try (Model f32 = ModelLoader.load("synth:tiny:f32:3"); Model q = ModelLoader.load("synth:tiny:" + tt[0] + ":3")) {
            int[] prompt = f32.tokenizer().encode(TEXT + " and a longer tail of text", true, false);
            float[] a = allLogits(f32, prompt), b = allLogits(q, prompt);
            double diff = 0, norm = 0;
            for (int i = 0; i < a.length; i++) {
                diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
                norm += a[i] * (double) a[i];
            }
            double relative = Math.sqrt(diff / norm);
            assertThat(relative).as(tt[0] + " relative L2 error of the logits").isLessThan(Double.parseDouble(tt[1])).isGreaterThan(0);
        }
    }

    /** Logits of every prompt position, fed one token per step over a dense K/V buffer. */
    private static float[] allLogits(Model m, int[] prompt) {
        int vocab = m.config().vocabSize();
        Transformer t = new Transformer(m, 1);
        DenseKvAttention kv = new DenseKvAttention(m.config(), 1, prompt.length);
        ForwardBatch<Integer> batch = new ForwardBatch<>(1, 1);
        float[] step = new float[vocab];
        float[] all = new float[prompt.length * vocab];
        for (int i = 0; i < prompt.length; i++) {
            batch.clear();
            batch.addSequence(0, prompt, i, 1, i, true);
            t.forward(batch, kv, step);
            System.arraycopy(step, 0, all, i * vocab, vocab);
        }
        return all;
    }

    /** Q4_K_M (Q5_K_M): Q4_K (Q5_K), with Q6_K for the (tied) output head and for attn_v / ffn_down of the layers given more bits. */
    @ParameterizedTest
    @ValueSource(strings = {"q4_k_m", "q5_k_m"})
    void kMMixesWithQ6_KAsLlamaQuantize(String dtype) {
        SyntheticShape s = SyntheticShape.parse("llama-76m");
        SyntheticDtype mix = SyntheticDtype.parse(dtype);
        Map<String, TensorType> types = new HashMap<>();
        for (SyntheticModel.Tensor t : SyntheticModel.tensors(s, mix, 0)) {
            types.put(t.name(), t.type());
        }
        assertThat(types.get("token_embd.weight")).isEqualTo(TensorType.Q6_K);
        // 12 layers: below 12/8 (0), from 7*12/8 (10, 11), and every third from 12/8 (3, 6, 9) get Q6_K
        for (int l = 0; l < 12; l++) {
            TensorType more = l == 0 || l == 3 || l == 6 || l == 9 || l >= 10 ? TensorType.Q6_K : mix.base;
            assertThat(types.get("blk." + l + ".attn_v.weight")).as("layer %d", l).isEqualTo(more);
            assertThat(types.get("blk." + l + ".ffn_down.weight")).as("layer %d", l).isEqualTo(more);
            assertThat(types.get("blk." + l + ".attn_q.weight")).isEqualTo(mix.base);
            assertThat(types.get("blk." + l + ".ffn_up.weight")).isEqualTo(mix.base);
        }
        assertThat(types.get("output_norm.weight")).isEqualTo(TensorType.F32);
    }
}
