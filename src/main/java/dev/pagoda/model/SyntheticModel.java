package dev.pagoda.model;

import dev.pagoda.PagodaException;
import dev.pagoda.format.gguf.GgufValueType;
import dev.pagoda.format.gguf.GgufWriter;
import dev.pagoda.kernel.Quantize;
import dev.pagoda.kernel.RopeStyle;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.tokenizer.SyntheticVocabulary;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Random-weight models for benchmarks, written as GGUF ({@code pagoda synth}) the way llama.cpp's converter lays out
 * each architecture (see {@link SyntheticShape}): uniform weights of standard deviation 0.02, unit norms, zero
 * biases, tied embeddings (Phi-3: a separate output matrix), and a byte-level BPE vocabulary of the shape's size. Matrices whose rows
 * do not fill whole quantization blocks fall back to F16, as llama.cpp's quantizer does. The same shape,
 * type and seed always give the same bytes, whether written to a file here or built in memory by
 * {@link SyntheticModelBuilder}.
 */
public final class SyntheticModel {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final float STD = 0.02f;

    private SyntheticModel() {
    }

    /** One tensor as GGUF names it: rows x cols elements (a 1-D tensor is one row), and how to generate its bytes. */
    record Tensor(String name, TensorType type, int rows, int cols, GgufWriter.TensorData data) {
        /** GGUF extents, innermost first. */
        long[] ne() {
            return rows == 1 ? new long[] {cols} : new long[] {cols, rows};
        }
    }

    static final float NORM_EPS = 1e-5f;
    static final float ROPE_THETA = 10000f;

    /** The model's name, as general.name records it. */
    static String name(SyntheticShape s, SyntheticDtype type) {
        return "synth-" + s.id + "-" + type.name().toLowerCase();
    }

    /** general.architecture of a shape: llama3 is a "llama" with rope_freqs. */
    private static String ggufArch(SyntheticShape s) {
        return s.arch.equals("llama3") ? "llama" : s.arch;
    }

    /** Each architecture's usual rope base (Llama 3: 500000; Qwen, Gemma 3 global layers: 1000000). */
    static float ropeTheta(SyntheticShape s) {
        return switch (s.arch) {
            case "llama3" -> 500000f;
            case "qwen2", "qwen3", "gemma3" -> 1000000f;
            default -> ROPE_THETA;
        };
    }

    public static void write(SyntheticShape s, SyntheticDtype type, long seed, Path out) {
        GgufWriter w = new GgufWriter();
        String a = ggufArch(s) + ".";
        w.put("general.architecture", ggufArch(s));
        w.put("general.name", name(s, type));
        w.put(a + "context_length", GgufValueType.UINT32, s.context);
        w.put(a + "embedding_length", GgufValueType.UINT32, s.dim);
        w.put(a + "feed_forward_length", GgufValueType.UINT32, s.hiddenDim);
        w.put(a + "block_count", GgufValueType.UINT32, s.layers);
        w.put(a + "attention.head_count", GgufValueType.UINT32, s.heads);
        w.put(a + "attention.head_count_kv", GgufValueType.UINT32, s.kvHeads);
        w.put(a + "attention.layer_norm_rms_epsilon", NORM_EPS);
        w.put(a + "rope.freq_base", ropeTheta(s));
        w.put(a + "rope.dimension_count", GgufValueType.UINT32, s.headDim());
        w.put(a + "attention.key_length", GgufValueType.UINT32, s.headDim());
        w.put(a + "attention.value_length", GgufValueType.UINT32, s.headDim());
        if (s.window > 0) {
            w.put(a + "attention.sliding_window", GgufValueType.UINT32, s.window);
        }
        if (s.arch.equals("gemma2")) {
            w.put(a + "attn_logit_softcapping", 50f);
            w.put(a + "final_logit_softcapping", 30f);
        }
        w.put("general.file_type", GgufValueType.UINT32, type.fileType);
        SyntheticVocabulary v = SyntheticVocabulary.byteLevel(s.vocab, seed);
        w.put("tokenizer.ggml.model", "gpt2");
        w.put("tokenizer.ggml.pre", "gpt-2");
        w.put("tokenizer.ggml.tokens", v.tokens());
        w.put("tokenizer.ggml.token_type", v.types());
        w.put("tokenizer.ggml.merges", v.merges());
        w.put("tokenizer.ggml.bos_token_id", GgufValueType.UINT32, v.bosId());
        w.put("tokenizer.ggml.eos_token_id", GgufValueType.UINT32, v.eosId());
        w.put("tokenizer.ggml.add_bos_token", true);
        for (Tensor t : tensors(s, type, seed)) {
            w.addTensor(t.name(), t.type(), t.ne(), t.data());
        }
        w.write(out);
    }

    /**
     * Every tensor in GGUF order, each with its own generator: what {@link #write} streams into the file and
     * {@link SyntheticModelBuilder} fills into memory. Matrix i draws from seed * golden + i, so the bytes depend only on
     * shape, type and seed.
     */
    static List<Tensor> tensors(SyntheticShape s, SyntheticDtype dtype, long seed) {
        List<Tensor> out = new ArrayList<>();
        int qDim = s.heads * s.headDim(), kvDim = s.kvHeads * s.headDim();
        boolean fused = s.arch.equals("phi3"), qkNorm = s.arch.equals("qwen3") || s.arch.equals("gemma3");
        boolean postNorms = s.arch.startsWith("gemma"), bias = s.arch.equals("qwen2");
        int[] counter = {0};
        if (s.arch.equals("llama3")) {
            // Llama 3.2's rope scaling (factor 32, low 1, high 4, original context 8192), as the converter stores it.
            float[] d = Rope.llama3(ropeTheta(s), RopeStyle.INTERLEAVED, s.headDim(), 32f, 1f, 4f, 8192).freqDivisors();
            out.add(new Tensor("rope_freqs.weight", TensorType.F32, 1, d.length, dst -> MemorySegment.copy(d, 0, dst, FLOAT, 0, d.length)));
        }
        out.add(matrix("token_embd.weight", dtype.typeOf("token_embd.weight", -1, s.layers), s.vocab, s.dim, seed, counter));
        for (int l = 0; l < s.layers; l++) {
            String p = "blk." + l + ".";
            int layer = l;
            Function<String, TensorType> t = name -> dtype.typeOf(name, layer, s.layers);
            out.add(constant(p + "attn_norm.weight", s.dim, 1f));
            if (fused) {
                out.add(matrix(p + "attn_qkv.weight", t.apply("attn_qkv.weight"), qDim + 2 * kvDim, s.dim, seed, counter));
            } else {
                out.add(matrix(p + "attn_q.weight", t.apply("attn_q.weight"), qDim, s.dim, seed, counter));
                out.add(matrix(p + "attn_k.weight", t.apply("attn_k.weight"), kvDim, s.dim, seed, counter));
                out.add(matrix(p + "attn_v.weight", t.apply("attn_v.weight"), kvDim, s.dim, seed, counter));
            }
            if (bias) {
                out.add(constant(p + "attn_q.bias", qDim, 0f));
                out.add(constant(p + "attn_k.bias", kvDim, 0f));
                out.add(constant(p + "attn_v.bias", kvDim, 0f));
            }
            if (qkNorm) {
                out.add(constant(p + "attn_q_norm.weight", s.headDim(), 1f));
                out.add(constant(p + "attn_k_norm.weight", s.headDim(), 1f));
            }
            out.add(matrix(p + "attn_output.weight", t.apply("attn_output.weight"), s.dim, qDim, seed, counter));
            if (postNorms) {
                out.add(constant(p + "post_attention_norm.weight", s.dim, 1f));
                out.add(constant(p + "post_ffw_norm.weight", s.dim, 1f));
            }
            out.add(constant(p + "ffn_norm.weight", s.dim, 1f));
            if (fused) {
                out.add(matrix(p + "ffn_up.weight", t.apply("ffn_up.weight"), 2 * s.hiddenDim, s.dim, seed, counter));
                out.add(matrix(p + "ffn_down.weight", t.apply("ffn_down.weight"), s.dim, s.hiddenDim, seed, counter));
            } else {
                out.add(matrix(p + "ffn_gate.weight", t.apply("ffn_gate.weight"), s.hiddenDim, s.dim, seed, counter));
                out.add(matrix(p + "ffn_down.weight", t.apply("ffn_down.weight"), s.dim, s.hiddenDim, seed, counter));
                out.add(matrix(p + "ffn_up.weight", t.apply("ffn_up.weight"), s.hiddenDim, s.dim, seed, counter));
            }
        }
        out.add(constant("output_norm.weight", s.dim, 1f));
        if (fused) {
            out.add(matrix("output.weight", dtype.typeOf("output.weight", -1, s.layers), s.vocab, s.dim, seed, counter));
        }
        return out;
    }

    private static Tensor constant(String name, int n, float value) {
        return new Tensor(name, TensorType.F32, 1, n, dst -> {
            for (int i = 0; i < n; i++) {
                dst.setAtIndex(FLOAT, i, value);
            }
        });
    }

    private static Tensor matrix(String name, TensorType type, int rows, int cols, long seed, int[] counter) {
        TensorType t = cols % type.blockSize == 0 ? type : TensorType.F16;
        long tensorSeed = seed * 0x9E3779B97F4A7C15L + counter[0]++;
        float a = (float) (STD * Math.sqrt(3));
        return new Tensor(name, t, rows, cols, (MemorySegment dst) -> {
            SplittableRandom rnd = new SplittableRandom(tensorSeed);
            float[] row = new float[cols];
            long rowBytes = t.bytesFor(cols);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    row[c] = (float) (rnd.nextDouble() * 2 - 1) * a;
                }
                Quantize.encode(t, row, 0, cols, dst, r * rowBytes);
            }
        });
    }
}
