package dev.pagoda.model;

import dev.pagoda.kernel.Repack;
import dev.pagoda.kernel.WeightMatrix;
import java.util.List;
import java.util.stream.Stream;

/** All weights of a decoder; {@code output} is the token embedding itself when embeddings are tied. */
public record ModelWeights(WeightMatrix tokenEmbedding, List<LayerWeights> layers, float[] finalNorm, WeightMatrix output) {

    public boolean tiedEmbeddings() {
        return output == tokenEmbedding || output.data().equals(tokenEmbedding.data());
    }

    /**
     * The matrices the forward pass multiplies by (layers and output head) in the kernels' layouts, made once per
     * {@link Transformer} (see {@link Repack}); the token embedding stays as loaded (rows looked up one at a time).
     */
    ModelWeights forKernels() {
        return new ModelWeights(tokenEmbedding, layers.stream().map(l -> l.withMatrices(Repack::forKernels)).toList(), finalNorm,
                Repack.forKernels(output));
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
