package dev.pagoda.model;

import dev.pagoda.kernel.MatMul;
import dev.pagoda.kernel.WeightMatrix;
import dev.pagoda.kernel.WorkerPool;

/**
 * Linear layers that read the same input (q/k/v, or gate and up), their output features split over the worker
 * pool's parts as in Megatron-LM's column-parallel layers: part p computes its slice of every layer's rows (whole
 * panels) in one parallel region, so the layers cost one handoff instead of one each, and what follows feature by
 * feature (the gate's activation) runs on the thread that computed it, with no handoff of its own. Each slice is
 * multiplied by {@link MatMul} as a matrix of its own; a row's value is the same as from the whole matrix, so the
 * split never changes a bit. Part p's output of layer m is an [n][slice rows] block of the scratch, the blocks laid
 * end to end ({@link #offset}).
 */
final class ColumnParallel {
    /** [part][layer] */
    private final WeightMatrix[][] slices;
    private final int[][] firstRow;
    /** Rows of the blocks before this one in the scratch. */
    private final int[][] before;
    private final long workPerToken;

    private ColumnParallel(WeightMatrix[][] slices, int[][] firstRow, int[][] before, long workPerToken) {
        this.slices = slices;
        this.firstRow = firstRow;
        this.before = before;
        this.workPerToken = workPerToken;
    }

    /** The layers split into {@code parts} slices of whole panels, or null when one has too few panels (groups of L rows) or cannot be split (see {@link WeightMatrix#panelRows}). */
    static ColumnParallel of(int parts, WeightMatrix... layers) {
        WeightMatrix[][] slices = new WeightMatrix[parts][layers.length];
        int[][] firstRow = new int[parts][layers.length];
        int[][] before = new int[parts][layers.length];
        long work = 0;
        int rows = 0;
        for (int p = 0; p < parts; p++) {
            for (int m = 0; m < layers.length; m++) {
                WeightMatrix w = layers[m];
                int panels = w.panelCount();
                int from = WorkerPool.partStart(panels, parts, p), to = WorkerPool.partStart(panels, parts, p + 1);
                WeightMatrix slice = panels < parts ? null : w.panelRows(from, to);
                if (slice == null) {
                    return null;
                }
                slices[p][m] = slice;
                firstRow[p][m] = p == 0 ? 0 : firstRow[p - 1][m] + slices[p - 1][m].rows();
                before[p][m] = rows;
                rows += slice.rows();
                work += (long) slice.rows() * slice.cols();
            }
        }
        return new ColumnParallel(slices, firstRow, before, work);
    }

    int parts() {
        return slices.length;
    }

    /** Multiply-adds of one token through all the layers. */
    long workPerToken() {
        return workPerToken;
    }

    /** Part p: n rows of x (row t at t * cols) through its slice of every layer, into the scratch. */
    void multiply(int p, float[] x, int n, float[] scratch) {
        for (int m = 0; m < slices[p].length; m++) {
            MatMul.matmul(slices[p][m], x, 0, n, scratch, offset(p, m, n));
        }
    }

    /** Where part p's [n][rows(p, m)] block of layer m starts in the scratch. */
    int offset(int p, int m, int n) {
        return n * before[p][m];
    }

    /** Rows of layer m that part p computes. */
    int rows(int p, int m) {
        return slices[p][m].rows();
    }

    /** The first of them, as a row of the whole layer. */
    int firstRow(int p, int m) {
        return firstRow[p][m];
    }

    /** Copies part p's block of layer m into out's rows (token t's row at t * stride), at its features' places. */
    void scatter(int p, int m, int n, float[] scratch, float[] out, int stride) {
        int r = rows(p, m), src = offset(p, m, n), dst = firstRow(p, m);
        for (int t = 0; t < n; t++) {
            System.arraycopy(scratch, src + t * r, out, t * stride + dst, r);
        }
    }
}
