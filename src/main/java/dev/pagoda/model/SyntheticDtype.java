package dev.pagoda.model;

import dev.pagoda.PagodaException;
import dev.pagoda.kernel.TensorType;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The weight types of a synthetic model: one type for every matrix, or Q4_K_M (Q5_K_M), llama-quantize's mix of Q4_K
 * (Q5_K) with Q6_K for the output head (here the tied token embedding) and for attn_v and ffn_down in the layers where
 * it spends more bits (the first and last eighth of the layers and every third layer between).
 */
public enum SyntheticDtype {
    F32(TensorType.F32, 0),
    F16(TensorType.F16, 1),
    BF16(TensorType.BF16, 32),
    Q8_0(TensorType.Q8_0, 7),
    Q4_0(TensorType.Q4_0, 2),
    Q4_K_M(TensorType.Q4_K, 15),
    Q5_K_M(TensorType.Q5_K, 17);

    /** The type of most matrices. */
    public final TensorType base;
    /** llama.cpp's general.file_type code (LLAMA_FTYPE_*). */
    final int fileType;

    SyntheticDtype(TensorType base, int fileType) {
        this.base = base;
        this.fileType = fileType;
    }

    public static SyntheticDtype parse(String name) {
        for (SyntheticDtype d : values()) {
            if (d.id().equals(name.toLowerCase())) {
                return d;
            }
        }
        throw new PagodaException("unknown dtype '" + name + "' (known: "
                + Arrays.stream(values()).map(SyntheticDtype::id).collect(Collectors.joining(", ")) + ")");
    }

    /** The name on the command line and in model names: f32, q8_0, q4_k_m, ... */
    public String id() {
        return name().toLowerCase();
    }

    /** The type of matrix {@code tensor} (a GGUF name without the "blk.N." prefix) in layer {@code layer} of {@code layers} (-1: not in a layer). */
    TensorType typeOf(String tensor, int layer, int layers) {
        if (this != Q4_K_M && this != Q5_K_M) {
            return base;
        }
        boolean moreBits = layer >= 0 && (layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2);
        return switch (tensor) {
            case "token_embd.weight", "output.weight" -> TensorType.Q6_K;
            case "attn_v.weight", "ffn_down.weight" -> moreBits ? TensorType.Q6_K : base;
            default -> base;
        };
    }
}
