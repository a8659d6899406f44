package dev.pagoda.model;

/** The gated feed-forward's activation: out = down(act(gate(x)) * up(x)). */
public enum Activation {
    /** SwiGLU: x * sigmoid(x) (Llama, Qwen, Phi-3). */
    SILU,
    /** GeGLU with the tanh approximation of GELU (Gemma's gelu_pytorch_tanh). */
    GELU_TANH
}
