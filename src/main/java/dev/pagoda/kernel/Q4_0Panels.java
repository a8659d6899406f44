package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.MemorySegment;

/**
 * The repacked layout of a Q4_0 weight matrix for {@link Q4_0Tile}: rows in panels of L (the last one padded with zero
 * rows) as in {@link RowPanels}, at 5 bits a weight (Q4_0 stores 4.5; int8 panels would take 9). Per block of 32
 * columns a panel holds the L rows' d (one float vector), then the block's nibbles laid out as a {@link Q4KPanels}
 * sub-block's: Q4_0's byte c (column c low, c + 16 high) of row i at {@code L * (c & ~1) + 2i + (c & 1)}, so one
 * widening load gives 4 columns of L rows to meet one broadcast pair of int8 activations ({@link Int8Activations}).
 *
 * <p>Row i, column k of a block weighs {@code d * (q - 8)}, Q4_0's value; the tiles add {@code d * (sum(q * x) - 8 *
 * sum(x))} per block, the sums over its 32 quantized activations in integers.
 */
final class Q4_0Panels {
    static final int BLOCK = 32;
    /** Byte offset of a block's nibbles (after its L floats of d), and bytes of a block. */
    static final long NIBBLES = 4L * L, BLOCK_BYTES = NIBBLES + 16L * L;

    private Q4_0Panels() {
    }

    /** Whether {@code type} has these panels: Q4_0, where a vector holds L = 16 rows. */
    static boolean supports(TensorType type) {
        return type == TensorType.Q4_0 && RowDecoder.VECTOR && L == 16;
    }

    static long panelBytes(int cols) {
        return BLOCK_BYTES * (cols / BLOCK);
    }

    /** The weights of {@code w} in these panels, in memory that lives as long as the returned segment is reachable. */
    static MemorySegment pack(WeightMatrix w) {
        return RowPanels.packEach(w, panelBytes(w.cols()), (dst, p) -> panel(w, p, dst));
    }

    /** Row p*L + i's blocks into panel p (the bit layout {@link Dequant} reads). */
    private static void panel(WeightMatrix w, int p, MemorySegment dst) {
        MemorySegment s = w.data();
        long base = p * panelBytes(w.cols());
        for (int i = 0; i < Math.min(L, w.rows() - p * L); i++) {
            long row = (p * L + i) * w.rowBytes();
            for (int b = 0; b < w.cols() / BLOCK; b++) {
                long blk = row + (long) TensorType.Q4_0.bytesPerBlock * b, at = base + BLOCK_BYTES * b;
                dst.set(Dequant.FLOAT, at + 4L * i, Dequant.half(s, blk));
                for (int c = 0; c < 16; c++) {
                    dst.set(Dequant.BYTE, at + NIBBLES + (long) L * (c & ~1) + 2 * i + (c & 1), s.get(Dequant.BYTE, blk + 2 + c));
                }
            }
        }
    }
}
