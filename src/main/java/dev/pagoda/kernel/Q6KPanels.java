package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.MemorySegment;

/**
 * The repacked layout of a Q6_K weight matrix for {@link Q6KTile}: rows in panels of L (the last one padded with zero
 * rows) as in {@link RowPanels}, at 8.625 bits a weight (Q6_K stores 6.56; int8 panels with a float scale per 16
 * columns would take 10). Per super-block of 256 columns a panel holds the L rows' d (one float vector), each 16-column
 * group's 8-bit scales (L bytes), then the 256 columns' quants q - 32 as int8, in column pairs (2m, 2m + 1) of 2L
 * bytes interleaved row by row (byte 2i + (k & 1) is row i's of column k): one widening load to int16 lanes gives 2
 * columns of L rows, lanes 2i and 2i + 1 row i's, to meet one broadcast pair of int8 activations
 * ({@link Int8Activations}).
 *
 * <p>Row i, column k of group g weighs {@code (d * scale) * q}, Q6_K's value (d * scale is exact in float); the tiles
 * take it apart: a group adds {@code (d * scale) * sum(q * x)} over its 16 columns, so a weight costs an integer
 * multiply and add.
 */
final class Q6KPanels {
    /** Columns per super-block and per group (one scale). */
    static final int SUPER = 256, GROUP = 16;
    /** Byte offsets in a super-block: d (L floats), the groups' scales (16 x L bytes), quants (256 x L bytes). */
    static final long D = 0, SCALES = 4L * L, QUANTS = 20L * L;
    static final long SUPER_BYTES = QUANTS + 256L * L;

    private Q6KPanels() {
    }

    /** Whether {@code type} has these panels: Q6_K, where vectors widen bytes. */
    static boolean supports(TensorType type) {
        return type == TensorType.Q6_K && RowDecoder.VECTOR;
    }

    static long panelBytes(int cols) {
        return SUPER_BYTES * (cols / SUPER);
    }

    /** Byte offset of row 0's quant of column k from a super-block's column 0 (pairs interleaved by row: row i's is 2i further). */
    private static long at(int k) {
        return (long) L * (k & ~1) + (k & 1);
    }

    /** The weights of {@code w} in these panels, in memory that lives as long as the returned segment is reachable. */
    static MemorySegment pack(WeightMatrix w) {
        return RowPanels.packEach(w, panelBytes(w.cols()), (dst, p) -> panel(w, p, dst));
    }

    /**
     * Row p*L + i's super-blocks into panel p (the bit layout {@link Dequant} reads): quarter 4h + k of a super-block
     * takes the low (k < 2) or high nibbles of ql[64h + 32(k % 2) + l] and bits 2k, 2k + 1 of qh[32h + l], minus 32.
     */
    private static void panel(WeightMatrix w, int p, MemorySegment dst) {
        MemorySegment s = w.data();
        long base = p * panelBytes(w.cols());
        for (int i = 0; i < Math.min(L, w.rows() - p * L); i++) {
            long row = (p * L + i) * w.rowBytes();
            for (int b = 0; b < w.cols() / SUPER; b++) {
                long blk = row + 210L * b;
                long sb = base + SUPER_BYTES * b;
                dst.set(Dequant.FLOAT, sb + D + 4L * i, Dequant.half(s, blk + 208));
                for (int g = 0; g < 16; g++) {
                    dst.set(Dequant.BYTE, sb + SCALES + (long) L * g + i, s.get(Dequant.BYTE, blk + 192 + g));
                }
                for (int h = 0; h < 2; h++) {
                    long ql = blk + 64L * h;
                    long qh = blk + 128 + 32L * h;
                    long y = sb + QUANTS + (long) L * 128 * h + 2 * i;
                    for (int l = 0; l < 32; l++) {
                        int lo = s.get(Dequant.BYTE, ql + l) & 0xFF;
                        int lo32 = s.get(Dequant.BYTE, ql + l + 32) & 0xFF;
                        int hi = s.get(Dequant.BYTE, qh + l) & 0xFF;
                        dst.set(Dequant.BYTE, y + at(l), (byte) (((lo & 0xF) | ((hi & 3) << 4)) - 32));
                        dst.set(Dequant.BYTE, y + at(l + 32), (byte) (((lo32 & 0xF) | (((hi >>> 2) & 3) << 4)) - 32));
                        dst.set(Dequant.BYTE, y + at(l + 64), (byte) (((lo >>> 4) | (((hi >>> 4) & 3) << 4)) - 32));
                        dst.set(Dequant.BYTE, y + at(l + 96), (byte) (((lo32 >>> 4) | ((hi >>> 6) << 4)) - 32));
                    }
                }
            }
        }
    }
}
