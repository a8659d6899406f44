package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One matmul over a matrix repacked into {@link RowPanels}, as a parallel loop over blocks of 2 panels (2L rows).
 * Tokens are taken in chunks whose activations stay in the L2 cache, but never fewer than a decode step's 32; within
 * a chunk a block's panels are read once per 12 or 8 tokens ({@link PanelTile}). BF16, F16 and int8 panels
 * ({@link Int8Panels}) are widened in the tiles' registers (a shift; a shift, a mask and a multiply; a conversion and
 * a multiply by the scales); int8 panels under more than 8 tokens are widened to float32 scratch once per block and
 * chunk, shared by all its tokens. Q4_0, Q4_K, Q5_K and Q6_K panels run their own tiles
 * ({@link Q4_0Tile}, {@link Q4KTile}, {@link Q6KTile}) against the chunk's activations quantized to int8 once per call and thread
 * ({@link Int8Activations}).
 */
final class PanelJob extends MatMulCall {
    /** Activation bytes per token chunk: well inside a 1 MiB L2 with a widened block beside them. */
    private static final int CHUNK_BYTES = 192 << 10;
    /**
     * Fewest tokens per chunk: a decode step of up to 32 tokens is one chunk even over long rows (a chunk of 8 over
     * llama-1b's 8192-column down projection read its weights from memory twice at batch 16), so each weight is read
     * from memory once per step.
     */
    private static final int MIN_CHUNK = 32;
    private static final ThreadLocal<MemorySegment[]> SCRATCH = ThreadLocal.withInitial(() -> new MemorySegment[] {MemorySegment.NULL});

    /** Whether {@code type}'s panels run tiles against int8 activations: Q4_0, Q4_K, Q5_K, Q6_K. */
    private static boolean quantizesActivations(TensorType type) {
        return Q4_0Panels.supports(type) || Q4KPanels.supports(type) || Q6KPanels.supports(type);
    }

    /** Blocks of 2 panels covering {@code rows} rows. */
    static int blocks(int rows) {
        return (RowPanels.count(rows) + 1) / 2;
    }

    @Override
    public void run(int firstBlock, int endBlock) {
        int cols = w.cols();
        int chunk = Math.max(MIN_CHUNK, CHUNK_BYTES / (4 * cols) / PanelTile.TOKENS * PanelTile.TOKENS);
        Int8Activations xq = null;
        for (int t0 = 0; t0 < nTokens; t0 += chunk) {
            int t1 = Math.min(nTokens, t0 + chunk);
            if (quantizesActivations(w.type())) {
                xq = Int8Activations.of(x, xOff, cols, t0, t1, call);
            }
            if (t1 - t0 == 1) {
                quarters(firstBlock, endBlock, t0, xq);
                continue;
            }
            for (int b = firstBlock; b < endBlock; b++) {
                int last = RowPanels.count(w.rows()) - 1, q1 = Math.min(2 * b + 1, last);
                block(2 * b, q1, 2 * b, q1, t0, t1, xq);
            }
        }
    }

    /**
     * One token over the panels of blocks [firstBlock, endBlock): the tile's 4 independent chains take one panel from
     * each quarter of the range (the last panel again where a quarter runs past the end: computed again, stored once
     * more), so each of its 4 streams reads on where the previous tile left it. Adjacent panels instead started 3 new
     * streams per tile, each paying the prefetcher's ramp-up: a 768-column int8 panel is only 216 cache lines.
     */
    private void quarters(int firstBlock, int endBlock, int t, Int8Activations xq) {
        int p0 = 2 * firstBlock, p1 = Math.min(2 * endBlock, RowPanels.count(w.rows()));
        int q = (p1 - p0 + 3) / 4;
        for (int j = p0; j < p0 + q; j++) {
            block(j, Math.min(j + q, p1 - 1), Math.min(j + 2 * q, p1 - 1), Math.min(j + 3 * q, p1 - 1), t, t + 1, xq);
        }
    }

    /**
     * Panels q0 and q1 for tokens [t0, t1); for one token also panels q2 and q3 (with more tokens they are q0 and q1).
     * {@code xq}: the chunk's activations quantized, for Q4_K and Q6_K panels.
     */
    private void block(int q0, int q1, int q2, int q3, int t0, int t1, Int8Activations xq) {
        WeightMatrix w = this.w;
        int rows = w.rows();
        int cols = w.cols();
        long panelFloats = (long) L * cols;
        if (quantizesActivations(w.type())) {
            kBlock(q0, q1, q2, q3, t0, t1, xq);
            return;
        }
        int r0 = q0 * L, r1 = q1 * L;
        if (Int8Panels.supports(w.type()) && t1 - t0 <= PanelTile.TOKENS) {
            int8Block(q0, q1, q2, q3, t0, t1);
            return;
        }
        int form = w.type() == TensorType.BF16 ? PanelTile.BF16 : w.type() == TensorType.F16 ? PanelTile.F16 : PanelTile.FLOAT;
        MemorySegment s;
        long p0, p1, p2, p3;
        if (Int8Panels.supports(w.type())) {
            // many tokens (so q2, q3 are q0, q1): each weight widened once, not once per tile
            s = scratch(2 * panelFloats);
            p0 = p2 = 0;
            p1 = p3 = 4 * panelFloats;
            Int8Panels.decode(w.panels(), Int8Panels.panelBytes(cols) * q0, cols, s, p0);
            Int8Panels.decode(w.panels(), Int8Panels.panelBytes(cols) * q1, cols, s, p1);
        } else {
            s = w.panels();
            long panelBytes = RowPanels.elementBytes(w.type()) * panelFloats;
            p0 = panelBytes * q0;
            p1 = panelBytes * q1;
            p2 = panelBytes * q2;
            p3 = panelBytes * q3;
        }
        if (t1 - t0 == 1) {
            PanelTile.tile1(s, form, p0, p1, p2, p3, cols, x, xOff + t0 * cols, out, outOff + t0 * rows, rows, r0, r1, q2 * L, q3 * L);
            return;
        }
        int t = t0;
        // past 8 tokens, 12 a pass (more multiply-adds per weight byte, so a pass that streams the weights from memory
        // is held back less by them), except where that would leave 1-4 tokens: 8 then, for the 4-token tile's 8 chains
        // barely cover the multiply-add's latency (16 tokens run faster as 8 + 8 than 12 + 4)
        while (t1 - t > PanelTile.TOKENS) {
            int left = t1 - t - PanelTile.WIDE;
            if (left > 0 && left <= 4) {
                PanelTile.tile8(s, form, p0, p1, cols, x, xOff + t * cols, PanelTile.TOKENS - 1, out, outOff + t * rows, rows, r0, r1);
                t += PanelTile.TOKENS;
            } else {
                int n = Math.min(PanelTile.WIDE, t1 - t);
                PanelTile.tile12(s, form, p0, p1, cols, x, xOff + t * cols, n - 1, out, outOff + t * rows, rows, r0, r1);
                t += n;
            }
        }
        if (t < t1) {
            int n = t1 - t;
            if (n <= 4) {
                PanelTile.tile4(s, form, p0, p1, cols, x, xOff + t * cols, n - 1, out, outOff + t * rows, rows, r0, r1);
            } else {
                PanelTile.tile8(s, form, p0, p1, cols, x, xOff + t * cols, n - 1, out, outOff + t * rows, rows, r0, r1);
            }
        }
    }

    /** {@link #block} over {@link Int8Panels} for at most 8 tokens: {@link Int8Tile}'s tiles, widening in registers. */
    private void int8Block(int q0, int q1, int q2, int q3, int t0, int t1) {
        int rows = w.rows();
        int cols = w.cols();
        long panelBytes = Int8Panels.panelBytes(cols);
        MemorySegment s = w.panels();
        int n = t1 - t0;
        if (n == 1) {
            Int8Tile.tile1(s, panelBytes * q0, panelBytes * q1, panelBytes * q2, panelBytes * q3, cols, x, xOff + t0 * cols,
                    out, outOff + t0 * rows, rows, q0 * L, q1 * L, q2 * L, q3 * L);
        } else if (n <= 4) {
            Int8Tile.tile4(s, panelBytes * q0, panelBytes * q1, cols, x, xOff + t0 * cols, n - 1, out, outOff + t0 * rows, rows, q0 * L, q1 * L);
        } else {
            Int8Tile.tile8(s, panelBytes * q0, panelBytes * q1, cols, x, xOff + t0 * cols, n - 1, out, outOff + t0 * rows, rows, q0 * L, q1 * L);
        }
    }

    /**
     * {@link #block} over {@link Q4_0Panels}, {@link Q4KPanels} (Q4_K, Q5_K) or {@link Q6KPanels}: the 1-token tile, or
     * the 4-token tile over the chunk, against its quantized activations {@code xq} (token t0 first).
     */
    private void kBlock(int q0, int q1, int q2, int q3, int t0, int t1, Int8Activations xq) {
        int rows = w.rows();
        int cols = w.cols();
        TensorType type = w.type();
        boolean q4 = Q4KPanels.supports(type), q40 = Q4_0Panels.supports(type), fifth = type == TensorType.Q5_K;
        long panelBytes = w.panelBytes();
        MemorySegment s = w.panels();
        if (t1 - t0 == 1) {
            if (q4) {
                Q4KTile.tile1(s, fifth, panelBytes * q0, panelBytes * q1, panelBytes * q2, panelBytes * q3, cols, xq, 0,
                        out, outOff + t0 * rows, rows, q0 * L, q1 * L, q2 * L, q3 * L);
            } else if (q40) {
                Q4_0Tile.tile1(s, panelBytes * q0, panelBytes * q1, panelBytes * q2, panelBytes * q3, cols, xq, 0,
                        out, outOff + t0 * rows, rows, q0 * L, q1 * L, q2 * L, q3 * L);
            } else {
                Q6KTile.tile1(s, panelBytes * q0, panelBytes * q1, panelBytes * q2, panelBytes * q3, cols, xq, 0,
                        out, outOff + t0 * rows, rows, q0 * L, q1 * L, q2 * L, q3 * L);
            }
            return;
        }
        for (int t = t0; t < t1; t += 4) {
            int last = Math.min(4, t1 - t) - 1;
            if (q4) {
                Q4KTile.tile4(s, fifth, panelBytes * q0, panelBytes * q1, cols, xq, t - t0, last, out, outOff + t * rows, rows, q0 * L, q1 * L);
            } else if (q40) {
                Q4_0Tile.tile4(s, panelBytes * q0, panelBytes * q1, cols, xq, t - t0, last, out, outOff + t * rows, rows, q0 * L, q1 * L);
            } else {
                Q6KTile.tile4(s, panelBytes * q0, panelBytes * q1, cols, xq, t - t0, last, out, outOff + t * rows, rows, q0 * L, q1 * L);
            }
        }
    }

    /** The calling thread's float32 scratch of at least {@code floats} floats, grown on demand (never per call once warm). */
    private static MemorySegment scratch(long floats) {
        MemorySegment[] holder = SCRATCH.get();
        if (holder[0].byteSize() < 4 * floats) {
            holder[0] = Arena.ofAuto().allocate(4 * floats, 64);
        }
        return holder[0];
    }
}
