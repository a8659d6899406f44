package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.MemorySegment;

/**
 * The repacked layout of a Q4_K weight matrix for {@link Q4KTile}: rows in panels of L (the last one padded with zero
 * rows) as in {@link RowPanels}, at 4.75 bits a weight (Q4_K stores 4.5; int8 panels would take 9). Per super-block of
 * 256 columns a panel holds the L rows' d (one float vector), their -dmin (one vector), each sub-block's 6-bit scales
 * (L bytes) and mins (L bytes), then per sub-block of 32 columns 16 column pairs (c, c + 16), each a byte per row: row
 * i's nibble of column c low, of column c + 16 high. Pairs 2m and 2m + 1 take 2L bytes, interleaved row by row (byte
 * 2i + (c & 1) is row i's of pair c): one widening load to int16 lanes gives 4 columns of L rows, lanes 2i and 2i + 1
 * row i's, to meet one broadcast pair of int8 activations ({@link Int8Activations}).
 *
 * <p>Row i, column k of sub-block j weighs {@code (d * scale) * q - dmin * min}, Q4_K's value; the tiles take it apart:
 * a sub-block adds {@code (d * scale) * sum(q * x) + (-dmin * min) * sum(x)} (the sums over its 32 columns), so a
 * weight costs an integer multiply and add.
 *
 * <p>Q5_K (5.75 bits a weight; it stores 5.5) adds each quant's fifth bit b: after the nibbles, per sub-block two
 * groups of 4 steps, 2L bytes each laid out as the nibbles' bytes, whose bits 2r and 2r + 1 are 1 - b of the low and the
 * high nibble of step 4 * group + r. The tiles take the nibble minus 16 * (1 - b), that is q - 16 in [-16, 15] (16
 * products of at most 16 * 127 still fit a sub-block's int16 lane), and add back 16 times the sub-block's sum of the
 * quantized activations, in integers.
 */
final class Q4KPanels {
    /** Columns per super-block and per sub-block. */
    static final int SUPER = 256, SUB = 32;
    /**
     * Byte offsets in a super-block: d, -dmin (L floats each), scales and mins (8 x L bytes each), nibbles (128 x L
     * bytes), Q5_K's fifth bits (32 x L bytes).
     */
    static final long D = 0, DMIN = 4L * L, SCALES = 8L * L, MINS = 16L * L, NIBBLES = 24L * L, FIFTH = NIBBLES + 128L * L;
    private static final long SUPER_BYTES = FIFTH, SUPER_BYTES_5 = FIFTH + 32L * L;

    private Q4KPanels() {
    }

    /** Whether {@code type} has these panels: Q4_K or Q5_K, where a vector holds L = 16 rows. */
    static boolean supports(TensorType type) {
        return (type == TensorType.Q4_K || type == TensorType.Q5_K) && RowDecoder.VECTOR && L == 16;
    }

    /** Bytes of a super-block, with Q5_K's fifth bits or without. */
    static long superBytes(boolean fifth) {
        return fifth ? SUPER_BYTES_5 : SUPER_BYTES;
    }

    static long panelBytes(TensorType type, int cols) {
        return superBytes(type == TensorType.Q5_K) * (cols / SUPER);
    }

    /** The weights of {@code w} in these panels, in memory that lives as long as the returned segment is reachable. */
    static MemorySegment pack(WeightMatrix w) {
        return RowPanels.packEach(w, panelBytes(w.type(), w.cols()), (dst, p) -> panel(w, p, dst));
    }

    /** Row p*L + i's super-blocks into panel p (the bit layout {@link Dequant} reads). */
    private static void panel(WeightMatrix w, int p, MemorySegment dst) {
        MemorySegment s = w.data();
        boolean fifth = w.type() == TensorType.Q5_K;
        long base = p * panelBytes(w.type(), w.cols());
        for (int i = 0; i < Math.min(L, w.rows() - p * L); i++) {
            long row = (p * L + i) * w.rowBytes();
            for (int b = 0; b < w.cols() / SUPER; b++) {
                long blk = row + w.type().bytesPerBlock * b;
                long sb = base + superBytes(fifth) * b;
                dst.set(Dequant.FLOAT, sb + D + 4L * i, Dequant.half(s, blk));
                dst.set(Dequant.FLOAT, sb + DMIN + 4L * i, -Dequant.half(s, blk + 2));
                for (int j = 0; j < 8; j++) {
                    dst.set(Dequant.BYTE, sb + SCALES + (long) L * j + i, (byte) Dequant.scaleK4(s, blk + 4, j));
                    dst.set(Dequant.BYTE, sb + MINS + (long) L * j + i, (byte) Dequant.minK4(s, blk + 4, j));
                    // sub-block j is the low (even j) or high (odd j) nibbles of the 32 bytes of group j / 2; its
                    // fifth bits (Q5_K) are bit j of the 32 bytes before the nibbles
                    long qs = blk + (fifth ? 48 : 16) + 32L * (j / 2);
                    int shift = 4 * (j % 2);
                    for (int c = 0; c < 16; c++) {
                        int lo = ((s.get(Dequant.BYTE, qs + c) & 0xFF) >>> shift) & 0xF;
                        int hi = ((s.get(Dequant.BYTE, qs + c + 16) & 0xFF) >>> shift) & 0xF;
                        long at = (long) L * (c & ~1) + 2 * i + (c & 1);  // pair c of step c / 2
                        dst.set(Dequant.BYTE, sb + NIBBLES + 16L * L * j + at, (byte) (lo | hi << 4));
                        if (fifth) {
                            int notLo = 1 - (((s.get(Dequant.BYTE, blk + 16 + c) & 0xFF) >>> j) & 1);
                            int notHi = 1 - (((s.get(Dequant.BYTE, blk + 16 + c + 16) & 0xFF) >>> j) & 1);
                            int step = c / 2;
                            long f = sb + FIFTH + 4L * L * j + 2L * L * (step / 4) + 2 * i + (c & 1);
                            int bits = (notLo | notHi << 1) << 2 * (step % 4);
                            dst.set(Dequant.BYTE, f, (byte) (dst.get(Dequant.BYTE, f) | bits));
                        }
                    }
                }
            }
        }
    }
}
