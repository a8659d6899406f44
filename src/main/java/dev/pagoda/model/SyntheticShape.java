package dev.pagoda.model;

import dev.pagoda.PagodaException;
import java.util.Arrays;

/** Llama shapes for random-weight benchmark models. */
public enum SyntheticShape {
    /** stories260K's shape. */
    TINY("tiny", 64, 172, 5, 8, 4, 512, 512),
    LLAMA_76M("llama-76m", 768, 2048, 12, 12, 4, 32000, 2048),
    LLAMA_1B("llama-1b", 2048, 8192, 16, 32, 8, 128256, 4096);

    public final String id;
    public final int dim, hiddenDim, layers, heads, kvHeads, vocab, context;

    SyntheticShape(String id, int dim, int hiddenDim, int layers, int heads, int kvHeads, int vocab, int context) {
        this.id = id;
        this.dim = dim;
        this.hiddenDim = hiddenDim;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.vocab = vocab;
        this.context = context;
    }

    public int headDim() {
        return dim / heads;
    }

    public static SyntheticShape parse(String name) {
        for (SyntheticShape s : values()) {
            if (s.id.equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new PagodaException("unknown shape '" + name + "' (known: " + Arrays.stream(values()).map(s -> s.id).toList() + ")");
    }
}
