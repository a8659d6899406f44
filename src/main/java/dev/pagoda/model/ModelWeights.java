package dev.pagoda.model;

import dev.pagoda.kernel.Repack;
import dev.pagoda.kernel.WeightMatrix;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.stream.Stream;

/** All weights of a decoder; {@code output} is the token embedding itself when embeddings are tied. */
public record ModelWeights(WeightMatrix tokenEmbedding, List<LayerWeights> layers, float[] finalNorm, WeightMatrix output) {
    private static final Map<ModelWeights, ModelWeights> FOR_KERNELS = Collections.synchronizedMap(new WeakHashMap<>());

    public boolean tiedEmbeddings() {
        return output == tokenEmbedding || output.data().equals(tokenEmbedding.data());
    }

    /**
     * The matrices the forward pass multiplies by (layers and output head) in the kernels' layouts (see {@link Repack}),
     * made once per loaded model: every engine on it (a bench's two layouts, its batch curve) shares them. The token
     * embedding stays as loaded (rows looked up one at a time). Held weakly: they go when the model's weights do.
     */
    ModelWeights forKernels() {
        return FOR_KERNELS.computeIfAbsent(this, w -> new ModelWeights(w.tokenEmbedding,
                w.layers.stream().map(l -> l.withMatrices(Repack::forKernels)).toList(), w.finalNorm, Repack.forKernels(w.output)));
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
