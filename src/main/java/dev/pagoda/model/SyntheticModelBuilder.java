package dev.pagoda.model;

import dev.pagoda.PagodaException;
import dev.pagoda.kernel.RopeStyle;
import dev.pagoda.kernel.WeightMatrix;
import dev.pagoda.tokenizer.SyntheticVocabulary;
import dev.pagoda.tokenizer.Tokenizer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Builds a random-weight model in off-heap memory, without a file: the same weights and vocabulary that
 * {@code pagoda synth} writes for the shape, type and seed (both come from {@link SyntheticModel#tensors}),
 * so it computes the same logits as that file loaded from GGUF. Named on the command line as
 * {@code synth:SHAPE:DTYPE[:SEED]}, e.g. {@code synth:llama-76m:q8_0}; closing the model frees the weights.
 */
public final class SyntheticModelBuilder {
    public static final String PREFIX = "synth:";
    /** Weight rows start on cache lines, as in a GGUF file's aligned data section. */
    private static final long ALIGNMENT = 64;

    private SyntheticModelBuilder() {
    }

    public static boolean isSpec(String spec) {
        return spec.startsWith(PREFIX);
    }

    /** Builds the model a {@code synth:SHAPE:DTYPE[:SEED]} spec names (seed 0 when left out). */
    public static Model fromSpec(String spec) {
        String[] parts = spec.split(":", -1);
        if (!isSpec(spec) || parts.length < 3 || parts.length > 4) {
            throw new PagodaException("model spec '" + spec + "': expected synth:SHAPE:DTYPE[:SEED], e.g. synth:llama-76m:q8_0");
        }
        // In memory: Llama shapes only; the other architectures' shapes are written as GGUF by pagoda synth.
        SyntheticShape shape = SyntheticShape.parseLlama(parts[1]);
        SyntheticDtype type = SyntheticDtype.parse(parts[2]);
        long seed = 0;
        if (parts.length == 4) {
            try {
                seed = Long.parseLong(parts[3]);
            } catch (NumberFormatException e) {
                throw new PagodaException("model spec '" + spec + "': seed '" + parts[3] + "' is not an integer");
            }
        }
        return build(shape, type, seed, spec);
    }

    public static Model build(SyntheticShape s, SyntheticDtype type, long seed) {
        return build(s, type, seed, PREFIX + s.id + ":" + type.id() + ":" + seed);
    }

    private static Model build(SyntheticShape s, SyntheticDtype type, long seed, String spec) {
        Arena arena = Arena.ofShared();
        try {
            List<SyntheticModel.Tensor> tensors = SyntheticModel.tensors(s, type, seed);
            Map<String, WeightMatrix> byName = new HashMap<>();
            List<WeightMatrix> matrices = new ArrayList<>();
            for (SyntheticModel.Tensor t : tensors) {
                MemorySegment data = arena.allocate(t.type().bytesFor((long) t.rows() * t.cols()), ALIGNMENT);
                WeightMatrix m = new WeightMatrix(t.name(), t.type(), data, t.rows(), t.cols());
                byName.put(t.name(), m);
                matrices.add(m);
            }
            // Every tensor has its own generator, so filling them in parallel gives the same bytes.
            IntStream.range(0, tensors.size()).parallel()
                    .forEach(i -> tensors.get(i).data().fill(matrices.get(i).data()));
            ModelConfig config = new ModelConfig("llama", s.dim, s.hiddenDim, s.layers, s.heads, s.kvHeads, s.headDim(),
                    s.vocab, s.context, SyntheticModel.NORM_EPS, SyntheticModel.ROPE_THETA, RopeStyle.INTERLEAVED);
            List<LayerWeights> layers = new ArrayList<>();
            for (int l = 0; l < s.layers; l++) {
                String p = "blk." + l + ".";
                layers.add(new LayerWeights(
                        Weights.vector(byName.get(p + "attn_norm.weight")),
                        byName.get(p + "attn_q.weight"), byName.get(p + "attn_k.weight"),
                        byName.get(p + "attn_v.weight"), byName.get(p + "attn_output.weight"),
                        null, null, null,
                        Weights.vector(byName.get(p + "ffn_norm.weight")),
                        byName.get(p + "ffn_gate.weight"), byName.get(p + "ffn_down.weight"), byName.get(p + "ffn_up.weight")));
            }
            WeightMatrix embedding = byName.get("token_embd.weight");
            ModelWeights weights = new ModelWeights(embedding, layers, Weights.vector(byName.get("output_norm.weight")), embedding);
            SyntheticVocabulary v = SyntheticVocabulary.byteLevel(s.vocab, seed);
            Tokenizer tokenizer = v.tokenizer();
            return new Model(SyntheticModel.name(s, type), Path.of(spec), "synthetic", config, weights, tokenizer,
                    new int[] {v.eosId()}, null, List.of(arena));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }
}
