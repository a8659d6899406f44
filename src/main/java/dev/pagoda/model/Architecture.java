package dev.pagoda.model;

import dev.pagoda.PagodaException;
import java.util.Arrays;

/**
 * The decoder architectures Pagoda runs, and the facts about each that a checkpoint does not state: which layers a
 * sliding window applies to, the activation, whether embeddings are scaled and norms stored as (1 + w) (Gemma), and
 * which optional weights each layer must have.
 */
enum Architecture {
    LLAMA("llama"),
    QWEN2("qwen2"),
    QWEN3("qwen3"),
    GEMMA2("gemma2"),
    GEMMA3("gemma3"),
    PHI3("phi3");

    /** Gemma 3 alternates five sliding-window layers with one global layer. */
    static final int GEMMA3_PATTERN = 6;

    final String id;

    Architecture(String id) {
        this.id = id;
    }

    /** The architecture a GGUF's general.architecture names, or an error listing the supported ones. */
    static Architecture fromGguf(String name, Object source) {
        for (Architecture a : values()) {
            if (a.id.equals(name)) {
                return a;
            }
        }
        throw new PagodaException(source + ": unknown architecture '" + name + "' (supported: "
                + String.join(", ", Arrays.stream(values()).map(a -> a.id).toList()) + ")");
    }

    boolean gemma() {
        return this == GEMMA2 || this == GEMMA3;
    }

    /** Per-head RMSNorm of q and k before RoPE. */
    boolean qkNorm() {
        return this == QWEN3 || this == GEMMA3;
    }

    /** RMSNorm of the attention and feed-forward outputs before each residual add. */
    boolean postNorms() {
        return gemma();
    }

    Activation activation() {
        return gemma() ? Activation.GELU_TANH : Activation.SILU;
    }

    /** Gemma multiplies embeddings by sqrt(dim), rounded to float as its reference does. */
    float embeddingScale(int dim) {
        return gemma() ? (float) Math.sqrt(dim) : 1f;
    }

    /** Whether layer {@code l} of a model with a sliding window uses it (the others attend globally). */
    boolean slidingLayer(int l) {
        return switch (this) {
            case GEMMA2 -> l % 2 == 0;
            case GEMMA3 -> (l + 1) % GEMMA3_PATTERN != 0;
            default -> true;
        };
    }
}
