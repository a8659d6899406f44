package dev.pagoda.model;

import dev.pagoda.kernel.WeightMatrix;
import java.util.List;
import java.util.stream.Stream;

/**
 * All weights of a decoder; {@code output} is the token embedding itself when embeddings are tied. The matrices the
 * forward pass multiplies by are repacked here, once at load ({@link WeightMatrix#packed}); the token embedding
 * keeps its rows (lookups read rows), and a tied output matrix is both.
 */
public record ModelWeights(WeightMatrix tokenEmbedding, List<LayerWeights> layers, float[] finalNorm, WeightMatrix output) {
    public ModelWeights {
        layers = layers.stream().map(LayerWeights::packed).toList();
        output = output.packed();
    }

    public boolean tiedEmbeddings() {
        return output == tokenEmbedding || output.data().equals(tokenEmbedding.data());
    }

    /** Every matrix, for byte counts and type listings. */
    public Stream<WeightMatrix> matrices() {
        var s = Stream.<WeightMatrix>builder();
        s.add(tokenEmbedding);
        for (LayerWeights l : layers) {
            s.add(l.wq()).add(l.wk()).add(l.wv()).add(l.wo()).add(l.gate()).add(l.down()).add(l.up());
        }
        if (!tiedEmbeddings()) {
            s.add(output);
        }
        return s.build();
    }
}
