package dev.pagoda.kernel;

/** Which elements of a head a rotary embedding rotates together (pair i uses frequency theta^(-2i/headDim)). */
public enum RopeStyle {
    /** Pairs (2i, 2i+1): llama2.c and GGUF Llama weights. */
    INTERLEAVED,
    /** Pairs (i, i + headDim/2): Hugging Face's rotate_half. */
    HALF
}
