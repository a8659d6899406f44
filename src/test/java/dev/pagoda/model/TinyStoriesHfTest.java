package dev.pagoda.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.TestData;
import dev.pagoda.attention.DenseKvAttention;
import dev.pagoda.engine.RequestResult;
import dev.pagoda.engine.Generator;
import dev.pagoda.kernel.RopeStyle;
import dev.pagoda.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

/** TinyStories-656K in Hugging Face format: safetensors, tied embeddings, rotate-half RoPE, tokenizer.json. */
class TinyStoriesHfTest {
    /** A TinyStories-style text written by another model (stories260K's greedy story). */
    static final String TEXT = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball. She wanted to play with it, but it was too high. Lily's mom said, "
            + "\"Lily, let's go to the park.\" Lily was sad and didn't know what to do. She said, \"I want to play with your ball, "
            + "but I can't find it.\" Lily was sad and didn't know what to do.";

    @Test
    void loadsWithTheConfigShape() {
        try (Model m = ModelLoader.open(TestData.path("models/TinyStories-656K"))) {
            ModelConfig c = m.config();
            assertThat(c.dim()).isEqualTo(128);
            assertThat(c.hiddenDim()).isEqualTo(384);
            assertThat(c.layers()).isEqualTo(2);
            assertThat(c.heads()).isEqualTo(8);
            assertThat(c.kvHeads()).isEqualTo(4);
            assertThat(c.vocabSize()).isEqualTo(2048);
            assertThat(c.contextLength()).isEqualTo(512);
            assertThat(c.ropeStyle()).isEqualTo(RopeStyle.HALF);
            assertThat(m.weights().tiedEmbeddings()).isTrue();
            assertThat(m.format()).isEqualTo("huggingface");
        }
    }

    /**
     * The model predicts real English well only with the right RoPE pairing: its mean negative
     * log-likelihood of a TinyStories-style sentence is low, and clearly lower than with the wrong pairing.
     */
    @Test
    void predictsEnglishOnlyWithRotateHalfRope() {
        try (Model m = ModelLoader.open(TestData.path("models/TinyStories-656K"))) {
            int[] tokens = m.tokenizer().encode(TEXT, true, false);
            double right = meanNll(m, m.config(), tokens);
            ModelConfig c = m.config();
            ModelConfig wrong = new ModelConfig(c.architecture(), c.dim(), c.hiddenDim(), c.layers(), c.heads(), c.kvHeads(),
                    c.headDim(), c.vocabSize(), c.contextLength(), c.normEps(), c.ropeTheta(), RopeStyle.INTERLEAVED);
            double wrongNll = meanNll(m, wrong, tokens);
            // Measured: 2.48 nats/token with rotate-half pairs, 3.49 with interleaved ones.
            assertThat(right).as("mean NLL per token").isLessThan(3.0);
            assertThat(right).isLessThan(wrongNll - 0.5);
        }
    }

    @Test
    void generatesFluentText() {
        try (Model m = ModelLoader.open(TestData.path("models/TinyStories-656K"))) {
            int[] prompt = m.tokenizer().encode("Once upon a time", true, false);
            RequestResult r = new Generator(m, 32).generate(prompt, SamplingParams.greedy(60), null, null);
            assertThat(r.output().tokenIds()).isNotEmpty();
            assertThat(r.output().text()).contains(" ").containsPattern("[a-z]+ [a-z]+ [a-z]+");
        }
    }

    private static double meanNll(Model m, ModelConfig config, int[] tokens) {
        Model variant = new Model(m.name(), m.source(), m.format(), config, m.weights(), m.tokenizer(), m.stopTokens(), null, java.util.List.of());
        int vocab = config.vocabSize();
        Transformer tf = new Transformer(variant, 1);
        DenseKvAttention kv = new DenseKvAttention(config, 1, config.contextLength());
        ForwardBatch<Integer> batch = new ForwardBatch<>(1, 1);
        float[] logits = new float[vocab];
        double nll = 0;
        for (int pos = 0; pos + 1 < tokens.length; pos++) {
            batch.clear();
            batch.addSequence(0, tokens, pos, 1, pos, true);
            tf.forward(batch, kv, logits);
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float l : logits) {
                max = Math.max(max, l);
            }
            for (float l : logits) {
                sum += Math.exp(l - max);
            }
            nll += max + Math.log(sum) - logits[tokens[pos + 1]];
        }
        return nll / (tokens.length - 1);
    }
}
