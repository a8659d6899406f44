package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The repacked layout of a Q8_0, Q5_0 or Q6_K weight matrix for the panel tiles: rows in panels of L (the last one
 * padded with zero rows) as in {@link RowPanels}; a panel holds, per group of 32 columns (16 for Q6_K, its sub-blocks),
 * the L rows' float scales (one vector), then the int8 quants column-major, L per column (one widening load per column,
 * at an offset linear in the column, so that C2 hoists the bounds checks). Row p*L + i, column k weighs
 * {@code scale * q}: an f16 scale (Q6_K: times its 8-bit sub-block scale) times an integer of at most 8 bits (6 for
 * Q6_K), exact in float, so it is the very value {@link Dequant} gives, and the tiles over these panels compute the F32
 * panels' products in the F32 panels' order: bit for bit the F32 panel matmul of the dequantized matrix, for any batch.
 *
 * <p>Made once at load ({@link WeightMatrix#packed}): 36 bytes per 32 weights (Q8_0 stores 34, Q5_0 22), 20 per 16
 * for Q6_K (it stores 13.1), one pass over the matrix split over the {@link WorkerPool}.
 */
final class Int8Panels {
    /** Columns per scale: Q8_0's and Q5_0's blocks; Q6_K's sub-blocks are {@link #K_GROUP}. */
    static final int GROUP = 32, K_GROUP = 16;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Int8Panels() {
    }

    /** Whether {@code type} has int8 panels: its values are a float scale times an int8 (vector widening needs L >= 8). */
    static boolean supports(TensorType type) {
        return (type == TensorType.Q8_0 || type == TensorType.Q5_0 || type == TensorType.Q6_K) && RowDecoder.VECTOR;
    }

    /** Columns per scale of {@code type}'s panels. */
    static int group(TensorType type) {
        return type == TensorType.Q6_K ? K_GROUP : GROUP;
    }

    static long panelBytes(int cols, int group) {
        return (4L + group) * L * (cols / group);
    }

    /** Byte offset in a panel of the scales of the group holding column k (a shift, not a division: groups are powers of 2). */
    static long scales(int k, int group) {
        return 4L * L * (k >>> Integer.numberOfTrailingZeros(group));
    }

    /** Byte offset in a panel of {@code cols} columns of column k's L quants. */
    static long quants(int cols, int group, int k) {
        return 4L * L * (cols / group) + (long) L * k;
    }

    /** The panel at byte offset {@code p} of {@code panels} as float32 panel columns at {@code dst[dstOff..]}: the values the tiles widen in registers. */
    static void decode(MemorySegment panels, long p, int cols, int group, MemorySegment dst, long dstOff) {
        long q = p + quants(cols, group, 0);
        for (int k = 0; k < cols; k++) {
            ((FloatVector) ByteVector.fromMemorySegment(RowDecoder.B, panels, q + (long) L * k, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromMemorySegment(F, panels, p + scales(k, group), LE)).intoMemorySegment(dst, dstOff + 4L * L * k, LE);
        }
    }

    /** Bytes of the packed copy of {@code w}. */
    static long bytes(WeightMatrix w) {
        return RowPanels.count(w.rows()) * panelBytes(w.cols(), group(w.type()));
    }

    /** The weights of {@code w} in int8 panels, in memory that lives as long as the returned segment is reachable. */
    static MemorySegment pack(WeightMatrix w) {
        int panels = RowPanels.count(w.rows());
        MemorySegment dst = Arena.ofAuto().allocate(bytes(w), 64);  // zeroed: the padding rows
        RangeTask task = (p0, p1) -> {
            float[] scales = new float[w.cols() / K_GROUP];
            byte[] q = new byte[w.cols()];
            for (int p = p0; p < p1; p++) {
                panel(w, p, dst, scales, q);
            }
        };
        if ((long) w.rows() * w.cols() < WorkerPool.INLINE_WORK) {
            task.run(0, panels);
        } else {
            WorkerPool.shared().parallelFor(panels, task);
        }
        return dst;
    }

    private static void panel(WeightMatrix w, int p, MemorySegment dst, float[] scales, byte[] q) {
        int cols = w.cols();
        int group = group(w.type());
        long base = p * panelBytes(cols, group);
        for (int i = 0; i < Math.min(L, w.rows() - p * L); i++) {
            row(w, p * L + i, scales, q);
            for (int g = 0; g < cols / group; g++) {
                dst.set(Dequant.FLOAT, base + scales(group * g, group) + 4L * i, scales[g]);
            }
            for (int k = 0; k < cols; k++) {
                dst.set(Dequant.BYTE, base + quants(cols, group, k) + i, q[k]);
            }
        }
    }

    /** Row r of {@code w} as its group scales and integers: value k is scales[k / group] * q[k] (the bit layouts {@link Dequant} reads). */
    private static void row(WeightMatrix w, int r, float[] scales, byte[] q) {
        MemorySegment s = w.data();
        long p = r * w.rowBytes();
        if (w.type() == TensorType.Q6_K) {
            q6_K(s, p, w.cols(), scales, q);
            return;
        }
        for (int g = 0; g < w.cols() / GROUP; g++) {
            if (w.type() == TensorType.Q8_0) {
                long blk = p + 34L * g;
                scales[g] = Dequant.half(s, blk);
                MemorySegment.copy(s, Dequant.BYTE, blk + 2, q, GROUP * g, GROUP);
            } else {
                long blk = p + 22L * g;
                scales[g] = Dequant.half(s, blk);
                int qh = s.get(Dequant.INT, blk + 2);
                for (int j = 0; j < 16; j++) {
                    int v = s.get(Dequant.BYTE, blk + 6 + j) & 0xFF;
                    q[GROUP * g + j] = (byte) (((v & 0xF) | ((qh >>> j) & 1) << 4) - 16);
                    q[GROUP * g + j + 16] = (byte) (((v >>> 4) | ((qh >>> (j + 16)) & 1) << 4) - 16);
                }
            }
        }
    }

    /**
     * A Q6_K row: sub-block k of a super-block (its elements [16k, 16k + 16)) has scale d * scale[k], exact in float;
     * quarter h*4 + k of a super-block takes the low (k < 2) or high nibbles of ql[64h + 32(k % 2) + l] and bits 2k,
     * 2k + 1 of qh[32h + l], minus 32.
     */
    private static void q6_K(MemorySegment s, long p, int n, float[] scales, byte[] q) {
        for (int b = 0; b < n / 256; b++) {
            long blk = p + 210L * b;
            float d = Dequant.half(s, blk + 208);
            for (int k = 0; k < 16; k++) {
                scales[16 * b + k] = d * s.get(Dequant.BYTE, blk + 192 + k);
            }
            for (int h = 0; h < 2; h++) {
                long ql = blk + 64L * h;
                long qh = blk + 128 + 32L * h;
                int y = 256 * b + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int lo = s.get(Dequant.BYTE, ql + l) & 0xFF;
                    int lo32 = s.get(Dequant.BYTE, ql + l + 32) & 0xFF;
                    int hi = s.get(Dequant.BYTE, qh + l) & 0xFF;
                    q[y + l] = (byte) (((lo & 0xF) | ((hi & 3) << 4)) - 32);
                    q[y + l + 32] = (byte) (((lo32 & 0xF) | (((hi >>> 2) & 3) << 4)) - 32);
                    q[y + l + 64] = (byte) (((lo >>> 4) | (((hi >>> 4) & 3) << 4)) - 32);
                    q[y + l + 96] = (byte) (((lo32 >>> 4) | ((hi >>> 6) << 4)) - 32);
                }
            }
        }
    }
}
