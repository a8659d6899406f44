package dev.pagoda.model;

/**
 * How one layer's attention reads the cache: a query at position i attends to keys j with i - j < {@code window}
 * (sliding-window attention; 0: every earlier position), scores q·k scaled by {@code scale}, then soft-capped as
 * {@code softCap * tanh(score / softCap)} (Gemma 2; 0: no cap), with {@code rope} rotating this layer's q and k
 * (Gemma 3 gives its sliding-window layers their own base).
 */
public record LayerAttention(int window, float scale, float softCap, Rope rope) {
    public LayerAttention {
        if (window < 0 || !(scale > 0) || softCap < 0) {
            throw new IllegalArgumentException("window " + window + ", scale " + scale + ", soft-cap " + softCap);
        }
    }

    /** Full causal attention scaled by 1/sqrt(headDim): Llama, Qwen. */
    public static LayerAttention global(int headDim, Rope rope) {
        return new LayerAttention(0, (float) (1 / Math.sqrt(headDim)), 0f, rope);
    }

    public boolean sliding() {
        return window > 0;
    }

    /** The first position a query at {@code pos} sees. */
    public int firstVisible(int pos) {
        return window == 0 ? 0 : Math.max(0, pos - window + 1);
    }
}
