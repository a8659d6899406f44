package dev.pagoda.attention;

import dev.pagoda.kernel.Ops;
import dev.pagoda.model.AttentionBackend;
import dev.pagoda.model.ForwardBatch;
import dev.pagoda.model.ModelConfig;

/**
 * The simplest K/V store: one dense buffer per sequence id, reserved for the whole context
 * ([layer][position][kvHeads*headDim] for K and V). It is the plain reference that the paged cache is
 * measured and tested against, and serves single-request generation.
 */
public final class DenseKvAttention implements AttentionBackend<Integer> {
    private final ModelConfig c;
    private final int maxPositions;
    private final float[][] keys;
    private final float[][] values;
    private final float[] scores;
    private final float scale;

    public DenseKvAttention(ModelConfig config, int sequences, int maxPositions) {
        this.c = config;
        this.maxPositions = maxPositions;
        long perSeq = (long) config.layers() * maxPositions * config.kvDim();
        if (perSeq > Integer.MAX_VALUE) {
            throw new dev.pagoda.PagodaException("dense K/V buffer of " + perSeq + " floats per sequence is too large; lower the context length");
        }
        keys = new float[sequences][(int) perSeq];
        values = new float[sequences][(int) perSeq];
        scores = new float[maxPositions];
        scale = (float) (1.0 / Math.sqrt(config.headDim()));
    }

    @Override
    public void attend(int layer, ForwardBatch<Integer> batch, float[] q, float[] k, float[] v, float[] out) {
        final int kvDim = c.kvDim(), qDim = c.qDim(), hd = c.headDim(), group = c.heads() / c.kvHeads();
        for (int s = 0; s < batch.seqCount(); s++) {
            int id = batch.sequence(s);
            float[] kc = keys[id], vc = values[id];
            int layerBase = layer * maxPositions * kvDim;
            int first = batch.seqStart[s], count = batch.seqLength[s];
            for (int t = first; t < first + count; t++) {
                int pos = batch.positions[t];
                if (pos >= maxPositions) {
                    throw new IllegalArgumentException("position " + pos + " beyond the K/V buffer of " + maxPositions);
                }
                System.arraycopy(k, t * kvDim, kc, layerBase + pos * kvDim, kvDim);
                System.arraycopy(v, t * kvDim, vc, layerBase + pos * kvDim, kvDim);
            }
            for (int t = first; t < first + count; t++) {
                int pos = batch.positions[t];
                for (int h = 0; h < c.heads(); h++) {
                    int qOff = t * qDim + h * hd;
                    int kvOff = layerBase + (h / group) * hd;
                    for (int j = 0; j <= pos; j++) {
                        scores[j] = Ops.dot(q, qOff, kc, kvOff + j * kvDim, hd) * scale;
                    }
                    Ops.softmax(scores, 0, pos + 1);
                    java.util.Arrays.fill(out, qOff, qOff + hd, 0f);
                    for (int j = 0; j <= pos; j++) {
                        Ops.axpy(scores[j], vc, kvOff + j * kvDim, out, qOff, hd);
                    }
                }
            }
        }
    }
}
