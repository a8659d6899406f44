package dev.pagoda.model;

import dev.pagoda.format.gguf.GgufValueType;
import dev.pagoda.format.gguf.GgufWriter;
import dev.pagoda.kernel.Quantize;
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
 * Random-weight Llama models for benchmarks, written as GGUF ({@code pagoda synth}): uniform weights of standard deviation 0.02,
 * unit norms, tied embeddings, and a byte-level BPE vocabulary of the shape's size. Matrices whose rows
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
        return "synth-" + s.id + "-" + type.id();
    }

    public static void write(SyntheticShape s, SyntheticDtype type, long seed, Path out) {
        GgufWriter w = new GgufWriter();
        w.put("general.architecture", "llama");
        w.put("general.name", name(s, type));
        w.put("llama.context_length", GgufValueType.UINT32, s.context);
        w.put("llama.embedding_length", GgufValueType.UINT32, s.dim);
        w.put("llama.feed_forward_length", GgufValueType.UINT32, s.hiddenDim);
        w.put("llama.block_count", GgufValueType.UINT32, s.layers);
        w.put("llama.attention.head_count", GgufValueType.UINT32, s.heads);
        w.put("llama.attention.head_count_kv", GgufValueType.UINT32, s.kvHeads);
        w.put("llama.attention.layer_norm_rms_epsilon", NORM_EPS);
        w.put("llama.rope.freq_base", ROPE_THETA);
        w.put("llama.rope.dimension_count", GgufValueType.UINT32, s.headDim());
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
    static List<Tensor> tensors(SyntheticShape s, SyntheticDtype type, long seed) {
        List<Tensor> out = new ArrayList<>();
        int kvDim = s.kvHeads * s.headDim();
        int[] counter = {0};
        out.add(matrix("token_embd.weight", type.typeOf("token_embd.weight", -1, s.layers), s.vocab, s.dim, seed, counter));
        for (int l = 0; l < s.layers; l++) {
            String p = "blk." + l + ".";
            int layer = l;
            Function<String, TensorType> t = name -> type.typeOf(name, layer, s.layers);
            out.add(norm(p + "attn_norm.weight", s.dim));
            out.add(matrix(p + "attn_q.weight", t.apply("attn_q.weight"), s.dim, s.dim, seed, counter));
            out.add(matrix(p + "attn_k.weight", t.apply("attn_k.weight"), kvDim, s.dim, seed, counter));
            out.add(matrix(p + "attn_v.weight", t.apply("attn_v.weight"), kvDim, s.dim, seed, counter));
            out.add(matrix(p + "attn_output.weight", t.apply("attn_output.weight"), s.dim, s.dim, seed, counter));
            out.add(norm(p + "ffn_norm.weight", s.dim));
            out.add(matrix(p + "ffn_gate.weight", t.apply("ffn_gate.weight"), s.hiddenDim, s.dim, seed, counter));
            out.add(matrix(p + "ffn_down.weight", t.apply("ffn_down.weight"), s.dim, s.hiddenDim, seed, counter));
            out.add(matrix(p + "ffn_up.weight", t.apply("ffn_up.weight"), s.hiddenDim, s.dim, seed, counter));
        }
        out.add(norm("output_norm.weight", s.dim));
        return out;
    }

    private static Tensor norm(String name, int n) {
        return new Tensor(name, TensorType.F32, 1, n, dst -> {
            for (int i = 0; i < n; i++) {
                dst.setAtIndex(FLOAT, i, 1f);
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
