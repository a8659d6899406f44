package dev.pagoda.attention;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.kv.KvAllocator;
import dev.pagoda.model.ForwardBatch;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.kv.KvShape;
import dev.pagoda.kernel.RopeStyle;
import dev.pagoda.model.LayerAttention;
import dev.pagoda.model.Rope;
import org.assertj.core.data.Offset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kernel against a plain attention over contiguous arrays (double accumulation), through shuffled block
 * tables and contiguous runs, mixed prefill/decode batches.
 */
class PagedAttentionTest {
    private static final int LAYERS = 2;
    private static final int KV_HEADS = 2;
    private static final int HEAD_DIM = 24;
    private static final int TOTAL_SLOTS = 2048;
    private static final LayerAttention GLOBAL = LayerAttention.global(HEAD_DIM, Rope.plain(10000f, RopeStyle.HALF));

    static Stream<Arguments> configurations() {
        List<Arguments> list = new ArrayList<>();
        for (KvLayout layout : KvLayout.values()) {
            for (int blockSize : new int[] {1, 16, 32}) {
                for (int group : new int[] {1, 2, 4}) {
                    list.add(Arguments.of(layout, blockSize, group));
                }
            }
        }
        return list.stream();
    }

    /** One sequence of the test: its history (already cached) and this step's chunk, with reference K/V. */
    private record Seq(KvSequence kv, int history, int chunk, float[][][] k, float[][][] v) {
    }

    @ParameterizedTest(name = "{0} block {1} group {2}")
    @MethodSource("configurations")
    void matchesContiguousReference(KvLayout layout, int blockSize, int group) {
        check(layout, blockSize, group, KvDtype.F32, 1e-5, 42 + blockSize * 7 + group, GLOBAL);
    }

    /**
     * Sliding-window layers read only the last W positions (windows shorter than, equal to and longer than a block,
     * sequences running well past them), with Gemma 2's score scale and soft-cap; the paged tables have released
     * their blocks out of the window.
     */
    @ParameterizedTest(name = "{0} block {1} window {2}")
    @CsvSource({"PAGED, 1, 5", "PAGED, 16, 16", "PAGED, 16, 7", "PAGED, 32, 40", "CONTIGUOUS, 16, 23", "PAGED, 16, 1"})
    void slidingWindowMatchesMaskedReference(KvLayout layout, int blockSize, int window) {
        check(layout, blockSize, 2, KvDtype.F32, 1e-5, 5 + blockSize + window, new LayerAttention(window, 0.3f, 0f, GLOBAL.rope()));
        check(layout, blockSize, 2, KvDtype.F32, 1e-5, 6 + blockSize + window, new LayerAttention(window, 0.7f, 3f, GLOBAL.rope()));
    }

    /** f16 storage rounds each K/V element to 11 significant bits: outputs agree to about 1e-3. */
    @Test
    void f16StorageWithinHalfPrecisionTolerance() {
        check(KvLayout.PAGED, 16, 2, KvDtype.F16, 4e-3, 7, GLOBAL);
        check(KvLayout.CONTIGUOUS, 16, 4, KvDtype.F16, 4e-3, 8, GLOBAL);
    }

    @Test
    void bf16StorageWithinBfloatTolerance() {
        check(KvLayout.PAGED, 16, 2, KvDtype.BF16, 3e-2, 9, GLOBAL);
    }

    /**
     * A prompt prefilled in chunks of 1 (decoding alone), 7, 64 or all at once, each chunk's K/V written just before
     * it attends: every row is the same bits. Heads of 64 (four vectors), 24 (a ragged last vector) and 8 (half
     * a vector); a sliding window with a soft-cap; a paged and a contiguous cache.
     */
    @ParameterizedTest(name = "head {0} {1} window {2}")
    @CsvSource({"64, PAGED, 0", "64, CONTIGUOUS, 0", "24, PAGED, 0", "8, PAGED, 0", "64, PAGED, 37", "8, PAGED, 20"})
    void prefillChunkingGivesBitIdenticalRows(int headDim, KvLayout layout, int window) {
        int kvHeads = 2, group = 3, nHeads = kvHeads * group, prompt = 150;
        LayerAttention how = window == 0 ? LayerAttention.global(headDim, GLOBAL.rope())
                : new LayerAttention(window, 0.2f, 5f, GLOBAL.rope());
        Random rnd = new Random(headDim * 31L + window);
        float[] k = randomRow(rnd, prompt * kvHeads * headDim);
        float[] v = randomRow(rnd, prompt * kvHeads * headDim);
        float[] q = randomRow(rnd, prompt * nHeads * headDim);
        float[] whole = null;
        for (int chunk : new int[] {prompt, 1, 7, 64}) {
            try (KvMemory memory = KvMemory.ofBlocks(new KvShape(1, kvHeads, headDim, 16, KvDtype.F32), 64)) {
                KvAllocator allocator = KvAllocator.create(layout, memory, false, null, window);
                PagedAttention attention = new PagedAttention(memory, nHeads);
                KvSequence kv = allocator.admit(0, prompt);
                float[] out = new float[q.length];
                for (int first = 0; first < prompt; first += chunk) {
                    int n = Math.min(chunk, prompt - first);
                    kv.append(n);
                    ForwardBatch<KvSequence> batch = new ForwardBatch<>(n, 1);
                    add(batch, kv, first, n);
                    int kvRow = kvHeads * headDim, qRow = nHeads * headDim;
                    attention.writeKv(0, batch, Arrays.copyOfRange(k, first * kvRow, (first + n) * kvRow),
                            Arrays.copyOfRange(v, first * kvRow, (first + n) * kvRow));
                    float[] o = new float[n * qRow];
                    attention.forward(0, how, batch, Arrays.copyOfRange(q, first * qRow, (first + n) * qRow), o);
                    System.arraycopy(o, 0, out, first * qRow, o.length);
                }
                kv.free();
                if (whole == null) {
                    whole = out;
                } else {
                    assertThat(out).as("chunks of %d", chunk).isEqualTo(whole);
                }
            }
        }
    }

    private void check(KvLayout layout, int blockSize, int group, KvDtype dtype, double tolerance, long seed, LayerAttention how) {
        Random rnd = new Random(seed);
        KvShape shape = new KvShape(LAYERS, KV_HEADS, HEAD_DIM, blockSize, dtype);
        int nHeads = KV_HEADS * group;
        try (KvMemory memory = KvMemory.ofBlocks(shape, TOTAL_SLOTS / blockSize)) {
            KvAllocator allocator = KvAllocator.create(layout, memory, false, null, how.window());
            PagedAttention attention = new PagedAttention(memory, nHeads);
            List<Seq> seqs = buildSequences(allocator, attention, blockSize, rnd);
            // With a window, the blocks before the window of each chunk's first position are released (holes, which
            // throw if read): the kernel's mask must never reach them.
            int released = 0;
            int outOfWindow = 0;
            for (Seq s : seqs) {
                s.kv.releaseOutOfWindow(s.history);
                released += s.kv.releasedBlocks();
                outOfWindow += how.sliding() ? how.firstVisible(s.history) / blockSize : 0;
            }
            assertThat(released).isEqualTo(layout == KvLayout.PAGED ? outOfWindow : 0);

            ForwardBatch<KvSequence> batch = new ForwardBatch<>(512, 16);
            for (Seq s : seqs) {
                s.kv.append(s.chunk - (s.kv.length() - s.history));
                add(batch, s.kv, s.history, s.chunk);
            }
            float[][] q = new float[batch.tokenCount()][];
            float[] qRows = new float[batch.tokenCount() * nHeads * HEAD_DIM];
            for (int t = 0; t < batch.tokenCount(); t++) {
                q[t] = randomRow(rnd, nHeads * HEAD_DIM);
                System.arraycopy(q[t], 0, qRows, t * nHeads * HEAD_DIM, q[t].length);
            }
            for (int layer = 0; layer < LAYERS; layer++) {
                writeChunk(attention, batch, seqs, layer);
            }
            float[] out = new float[qRows.length];
            attention.forward(1, how, batch, qRows, out);

            int t = 0;
            for (Seq s : seqs) {
                for (int i = 0; i < s.chunk; i++, t++) {
                    double[] expected = reference(q[t], s, 1, s.history + i, nHeads, group, how);
                    double scaleOfRow = 1;
                    for (double e : expected) {
                        scaleOfRow = Math.max(scaleOfRow, Math.abs(e));
                    }
                    for (int d = 0; d < expected.length; d++) {
                        assertThat((double) out[t * nHeads * HEAD_DIM + d])
                                .as("row %d (position %d), element %d", t, s.history + i, d)
                                .isCloseTo(expected[d], Offset.offset(tolerance * scaleOfRow));
                    }
                }
            }
            assertBatchInvariant(attention, how, batch, seqs, qRows, out, nHeads);
        }
    }

    /** Sequences with random histories (1, multiples of B, others) placed in shuffled blocks or runs. */
    private List<Seq> buildSequences(KvAllocator allocator, PagedAttention attention, int blockSize, Random rnd) {
        // Decoys admitted and freed in random order scatter the free blocks (and runs) the test sequences get.
        List<KvSequence> decoys = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            int n = 1 + rnd.nextInt(40);
            decoys.add(allocator.admit(n, n + rnd.nextInt(9)));
        }
        Collections.shuffle(decoys, rnd);
        for (int i = 0; i < decoys.size(); i += 2) {
            decoys.get(i).free();
        }
        int[][] historyAndChunk = {
            {0, 1}, {0, 1 + rnd.nextInt(40)}, {1, 1}, {blockSize, 1}, {2 * blockSize, 3},
            {blockSize + 1 + rnd.nextInt(60), 1}, {5 + rnd.nextInt(70), 1 + rnd.nextInt(30)}, {blockSize - 1, 1},
        };
        List<Seq> seqs = new ArrayList<>();
        for (int[] hc : historyAndChunk) {
            int history = hc[0];
            int chunk = hc[1];
            int total = history + chunk;
            float[][][] k = new float[LAYERS][total][];
            float[][][] v = new float[LAYERS][total][];
            for (int layer = 0; layer < LAYERS; layer++) {
                for (int p = 0; p < total; p++) {
                    k[layer][p] = randomRow(rnd, KV_HEADS * HEAD_DIM);
                    v[layer][p] = randomRow(rnd, KV_HEADS * HEAD_DIM);
                }
            }
            KvSequence kv = allocator.admit(history, total + rnd.nextInt(20));
            Seq s = new Seq(kv, history, chunk, k, v);
            if (history > 0) {
                ForwardBatch<KvSequence> past = new ForwardBatch<>(history, 1);
                add(past, kv, 0, history);
                for (int layer = 0; layer < LAYERS; layer++) {
                    writeRows(attention, past, layer, k[layer], v[layer], 0);
                }
            }
            seqs.add(s);
        }
        for (int i = 1; i < decoys.size(); i += 2) {
            decoys.get(i).free();
        }
        return seqs;
    }

    private static void writeChunk(PagedAttention attention, ForwardBatch<KvSequence> batch, List<Seq> seqs, int layer) {
        int kvDim = KV_HEADS * HEAD_DIM;
        float[] k = new float[batch.tokenCount() * kvDim];
        float[] v = new float[k.length];
        int t = 0;
        for (Seq s : seqs) {
            for (int i = 0; i < s.chunk; i++, t++) {
                System.arraycopy(s.k[layer][s.history + i], 0, k, t * kvDim, kvDim);
                System.arraycopy(s.v[layer][s.history + i], 0, v, t * kvDim, kvDim);
            }
        }
        attention.writeKv(layer, batch, k, v);
    }

    private static void writeRows(PagedAttention attention, ForwardBatch<KvSequence> batch, int layer, float[][] k,
                                  float[][] v, int first) {
        int kvDim = KV_HEADS * HEAD_DIM;
        float[] kRows = new float[batch.tokenCount() * kvDim];
        float[] vRows = new float[kRows.length];
        for (int t = 0; t < batch.tokenCount(); t++) {
            System.arraycopy(k[first + t], 0, kRows, t * kvDim, kvDim);
            System.arraycopy(v[first + t], 0, vRows, t * kvDim, kvDim);
        }
        attention.writeKv(layer, batch, kRows, vRows);
    }

    /**
     * Plain causal attention for one query row over the sequence's own arrays, in double: every position up to the
     * query's gets a score, and the window masks out those at distance >= W before the softmax.
     */
    private static double[] reference(float[] q, Seq s, int layer, int position, int nHeads, int group, LayerAttention how) {
        double[] out = new double[nHeads * HEAD_DIM];
        for (int h = 0; h < nHeads; h++) {
            int kvOff = (h / group) * HEAD_DIM;
            double[] scores = new double[position + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int p = 0; p <= position; p++) {
                double dot = 0;
                for (int d = 0; d < HEAD_DIM; d++) {
                    dot += (double) q[h * HEAD_DIM + d] * s.k[layer][p][kvOff + d];
                }
                scores[p] = dot * how.scale();
                if (how.softCap() > 0) {
                    scores[p] = how.softCap() * Math.tanh(scores[p] / how.softCap());
                }
                if (how.window() > 0 && position - p >= how.window()) {
                    scores[p] = Double.NEGATIVE_INFINITY;
                }
                max = Math.max(max, scores[p]);
            }
            double sum = 0;
            for (int p = 0; p <= position; p++) {
                scores[p] = Math.exp(scores[p] - max);
                sum += scores[p];
            }
            for (int p = 0; p <= position; p++) {
                for (int d = 0; d < HEAD_DIM; d++) {
                    out[h * HEAD_DIM + d] += scores[p] / sum * s.v[layer][p][kvOff + d];
                }
            }
        }
        return out;
    }

    /** Each sequence alone, and the batch split into arbitrary ranges, give bit-identical rows. */
    private static void assertBatchInvariant(PagedAttention attention, LayerAttention how, ForwardBatch<KvSequence> batch, List<Seq> seqs,
                                             float[] qRows, float[] out, int nHeads) {
        int rowLen = nHeads * HEAD_DIM;
        float[] split = new float[out.length];
        int items = attention.workItems(batch);
        for (int start = 0; start < items; start += 7) {
            attention.run(1, how, batch, qRows, split, start, Math.min(items, start + 7));
        }
        assertThat(split).isEqualTo(out);
        int row = 0;
        for (Seq s : seqs) {
            ForwardBatch<KvSequence> alone = new ForwardBatch<>(s.chunk, 1);
            add(alone, s.kv, s.history, s.chunk);
            float[] q = Arrays.copyOfRange(qRows, row * rowLen, (row + s.chunk) * rowLen);
            float[] o = new float[q.length];
            attention.forward(1, how, alone, q, o);
            assertThat(o).isEqualTo(Arrays.copyOfRange(out, row * rowLen, (row + s.chunk) * rowLen));
            row += s.chunk;
        }
    }

    /** Adds positions first..first+count-1 of {@code kv} as the batch's next rows (token ids do not matter here). */
    private static void add(ForwardBatch<KvSequence> batch, KvSequence kv, int first, int count) {
        batch.addSequence(kv, new int[first + count], first, count, first, false);
    }

    private static float[] randomRow(Random rnd, int n) {
        float[] r = new float[n];
        for (int i = 0; i < n; i++) {
            r[i] = (float) (rnd.nextGaussian());
        }
        return r;
    }
}
