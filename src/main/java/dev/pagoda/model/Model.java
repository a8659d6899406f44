package dev.pagoda.model;

import dev.pagoda.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.List;

/**
 * A loaded model: its shape, its (memory-mapped) weights, its tokenizer and its stop tokens.
 * Closing it unmaps the files; no weight may be used afterwards.
 *
 * @param format      "llama2c", "gguf" or "huggingface"
 * @param stopTokens  token ids that end generation (EOS, and BOS for llama2.c models as run.c does)
 * @param chatTemplate the model's Jinja chat template (tokenizer_config.json or GGUF tokenizer.chat_template), or null
 */
public record Model(
        String name,
        Path source,
        String format,
        ModelConfig config,
        ModelWeights weights,
        Tokenizer tokenizer,
        int[] stopTokens,
        String chatTemplate,
        List<AutoCloseable> resources) implements AutoCloseable {

    public boolean isStopToken(int id) {
        for (int s : stopTokens) {
            if (s == id) {
                return true;
            }
        }
        return false;
    }

    /** The same model with another chat template (a {@code --chat-template} override); it shares this one's resources. */
    public Model withChatTemplate(String template) {
        return new Model(name, source, format, config, weights, tokenizer, stopTokens, template, resources);
    }

    /** Bytes of all weight matrices (what one decode step streams from memory). */
    public long weightBytes() {
        return weights.matrices().mapToLong(m -> m.byteSize()).sum();
    }

    /** Number of parameters, counting tied embeddings once. */
    public long parameterCount() {
        long n = weights.matrices().mapToLong(m -> (long) m.rows() * m.cols()).sum();
        n += weights.finalNorm().length;
        for (LayerWeights l : weights.layers()) {
            n += l.attnNorm().length + l.ffnNorm().length;
            if (l.bq() != null) {
                n += l.bq().length + l.bk().length + l.bv().length;
            }
        }
        return n;
    }

    @Override
    public void close() {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + source, e);
            }
        }
    }
}
