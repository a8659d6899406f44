package dev.pagoda.model;

import dev.pagoda.PagodaException;
import dev.pagoda.format.MappedFile;
import dev.pagoda.kernel.RopeStyle;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;
import dev.pagoda.tokenizer.Tokenizer;
import dev.pagoda.tokenizer.Tokenizers;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * llama2.c checkpoints (the legacy version-0 ".bin" of run.c): a header of 7 int32 (dim, hidden_dim,
 * n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means the classifier is not
 * shared with the embedding), then float32 tensors layer-stacked by kind. The tokenizer is a separate
 * file (tokenizer.bin, or tok{vocab}.bin beside the checkpoint). RoPE pairs are interleaved, norm eps 1e-5,
 * theta 10000, as run.c hard-codes them.
 */
final class Llama2cLoader {
    private static final int HEADER_BYTES = 7 * 4;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Llama2cLoader() {
    }

    static Model load(Path file) {
        MappedFile mapped = MappedFile.open(file);
        try {
            MemorySegment seg = mapped.segment();
            if (seg.byteSize() < HEADER_BYTES) {
                throw new PagodaException(file + ": truncated llama2.c checkpoint (" + seg.byteSize() + " bytes, no header)");
            }
            int dim = seg.get(INT, 0), hidden = seg.get(INT, 4), layers = seg.get(INT, 8), heads = seg.get(INT, 12);
            int kvHeads = seg.get(INT, 16), vocabField = seg.get(INT, 20), seqLen = seg.get(INT, 24);
            boolean shared = vocabField > 0;
            int vocab = Math.abs(vocabField);
            if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab == 0 || seqLen <= 0
                    || dim % heads != 0 || dim > 1 << 16 || hidden > 1 << 18 || layers > 1024 || vocab > 1 << 20 || seqLen > 1 << 22) {
                throw new PagodaException(file + ": not a llama2.c checkpoint (implausible header: dim " + dim + ", hidden " + hidden
                        + ", layers " + layers + ", heads " + heads + "/" + kvHeads + ", vocab " + vocabField + ", seq_len " + seqLen + ")");
            }
            int headDim = dim / heads;
            int kvDim = kvHeads * headDim;
            ModelConfig config = new ModelConfig("llama", dim, hidden, layers, heads, kvHeads, headDim, vocab, seqLen,
                    1e-5f, 10000f, RopeStyle.INTERLEAVED);

            Cursor c = new Cursor(file, seg, HEADER_BYTES);
            WeightMatrix embedding = c.matrix("token_embedding", vocab, dim);
            WeightMatrix rmsAtt = c.matrix("rms_att", layers, dim);
            WeightMatrix wq = c.matrix("wq", layers * dim, dim);
            WeightMatrix wk = c.matrix("wk", layers * kvDim, dim);
            WeightMatrix wv = c.matrix("wv", layers * kvDim, dim);
            WeightMatrix wo = c.matrix("wo", layers * dim, dim);
            WeightMatrix rmsFfn = c.matrix("rms_ffn", layers, dim);
            WeightMatrix w1 = c.matrix("w1", layers * hidden, dim);
            WeightMatrix w2 = c.matrix("w2", layers * dim, hidden);
            WeightMatrix w3 = c.matrix("w3", layers * hidden, dim);
            WeightMatrix rmsFinal = c.matrix("rms_final", 1, dim);
            c.skip("freq_cis", 2L * seqLen * (headDim / 2));
            WeightMatrix output = shared ? embedding : c.matrix("wcls", vocab, dim);

            List<LayerWeights> layerList = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                layerList.add(new LayerWeights(
                        Weights.vector(Weights.rows(rmsAtt, l, 1)),
                        Weights.rows(wq, l * dim, dim), Weights.rows(wk, l * kvDim, kvDim),
                        Weights.rows(wv, l * kvDim, kvDim), Weights.rows(wo, l * dim, dim),
                        null, null, null,
                        Weights.vector(Weights.rows(rmsFfn, l, 1)),
                        Weights.rows(w1, l * hidden, hidden), Weights.rows(w2, l * dim, dim), Weights.rows(w3, l * hidden, hidden)));
            }
            ModelWeights weights = new ModelWeights(embedding, layerList, Weights.vector(rmsFinal), output);
            Tokenizer tokenizer = Tokenizers.fromLlama2c(findTokenizer(file, vocab));
            if (tokenizer.vocabSize() != vocab) {
                throw new PagodaException(file + ": tokenizer has " + tokenizer.vocabSize() + " tokens, the model " + vocab);
            }
            // run.c stops when it samples BOS (token 1): a story ends by starting the next one.
            int[] stops = tokenizer.eosId() >= 0 ? new int[] {tokenizer.eosId(), tokenizer.bosId()} : new int[] {tokenizer.bosId()};
            return new Model(baseName(file), file, "llama2c", config, weights, tokenizer, stops, null, List.of(mapped));
        } catch (RuntimeException e) {
            mapped.close();
            throw e;
        }
    }

    /** Looks for tokenizer.bin or tok{vocab}.bin beside the checkpoint. */
    static Path findTokenizer(Path checkpoint, int vocab) {
        Path dir = checkpoint.toAbsolutePath().getParent();
        for (String name : new String[] {"tok" + vocab + ".bin", "tokenizer.bin"}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new PagodaException(checkpoint + ": no llama2.c tokenizer beside it (looked for tok" + vocab + ".bin and tokenizer.bin in " + dir + ")");
    }

    private static String baseName(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /** Walks the float32 tensors in file order, checking each fits in the file. */
    private static final class Cursor {
        private final Path file;
        private final MemorySegment seg;
        private long offset;

        Cursor(Path file, MemorySegment seg, long offset) {
            this.file = file;
            this.seg = seg;
            this.offset = offset;
        }

        WeightMatrix matrix(String name, int rows, int cols) {
            long bytes = (long) rows * cols * 4;
            check(name, bytes);
            WeightMatrix m = new WeightMatrix(name, TensorType.F32, seg.asSlice(offset, bytes), rows, cols);
            offset += bytes;
            return m;
        }

        void skip(String name, long floats) {
            check(name, floats * 4);
            offset += floats * 4;
        }

        private void check(String name, long bytes) {
            if (offset + bytes > seg.byteSize()) {
                throw new PagodaException(file + ": truncated llama2.c checkpoint: tensor " + name + " needs bytes "
                        + offset + ".." + (offset + bytes) + " of a " + seg.byteSize() + "-byte file");
            }
        }
    }
}
