package dev.pagoda.model;

/**
 * Where K/V live and how attention reads them. The transformer hands over, for one layer, the batch's
 * rotated q, k and v rows; the backend stores k and v at the tokens' positions in the sequence's cache
 * and writes each token's attention output (causal: a token sees its own sequence's positions 0..its own).
 * Rows: q and out are heads*headDim floats per token, k and v kvHeads*headDim.
 *
 * @param <S> the backend's handle on a sequence's K/V ({@link ForwardBatch#sequence})
 */
public interface AttentionBackend<S> {
    void attend(int layer, ForwardBatch<S> batch, float[] q, float[] k, float[] v, float[] out);
}
