package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.F;
import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The repacked layout of a Q8_0 or Q5_0 weight matrix for the panel tiles: rows in panels of L (the last one
 * padded with zero rows) as in {@link RowPanels}; a panel holds, group after group of 32 columns, the L rows' float
 * scales (one vector) followed by the group's int8 quants column-major, L per column (one widening load per column).
 * A panel is so one stream read front to back: a single-token tile, bound by memory, finds its scales where its quants
 * are (with all scales ahead of all quants, each panel was two streams, and the prefetcher followed them less well).
 * Row p*L + i, column k weighs {@code scale * q}: an f16 scale times an integer of at most 8 bits, exact in
 * float, so it is the very value {@link Dequant} gives, and the tiles over these panels compute the F32 panels'
 * products in the F32 panels' order: bit for bit the F32 panel matmul of the dequantized matrix, for any batch.
 *
 * <p>Made once at load ({@link WeightMatrix#packed}): 36 bytes per 32 weights (Q8_0 stores 34, Q5_0 22), one
 * pass over the matrix split over the {@link WorkerPool}.
 */
final class Int8Panels {
    static final int GROUP = 32;
    /** Bytes of a group in a panel: its L scales, then its 32 columns of L quants. */
    private static final long GROUP_BYTES = (4L + GROUP) * L;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Int8Panels() {
    }

    /** Whether {@code type} has int8 panels: its values are a float scale times an int8 (vector widening needs L >= 8). */
    static boolean supports(TensorType type) {
        return (type == TensorType.Q8_0 || type == TensorType.Q5_0) && RowDecoder.VECTOR;
    }

    static long panelBytes(int cols) {
        return GROUP_BYTES * (cols / GROUP);
    }

    /** Byte offset in a panel of the scales of the group holding column k. */
    static long scales(int k) {
        return GROUP_BYTES * (k >>> 5);
    }

    /** Byte offset in a panel of column k's L quants. */
    static long quants(int k) {
        return GROUP_BYTES * (k >>> 5) + 4L * L + (long) L * (k & (GROUP - 1));
    }

    /** The panel at byte offset {@code p} of {@code panels} as float32 panel columns at {@code dst[dstOff..]}: the values the tiles widen in registers. */
    static void decode(MemorySegment panels, long p, int cols, MemorySegment dst, long dstOff) {
        for (int k0 = 0; k0 < cols; k0 += GROUP) {
            FloatVector scale = FloatVector.fromMemorySegment(F, panels, p + scales(k0), LE);
            long q = p + quants(k0);
            for (int k = 0; k < GROUP; k++) {
                ((FloatVector) ByteVector.fromMemorySegment(RowDecoder.B, panels, q + (long) L * k, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(scale).intoMemorySegment(dst, dstOff + 4L * L * (k0 + k), LE);
            }
        }
    }

    /** The weights of {@code w} in int8 panels, in memory that lives as long as the returned segment is reachable. */
    static MemorySegment pack(WeightMatrix w) {
        return RowPanels.packInParallel(w, panelBytes(w.cols()), dst -> (p0, p1) -> {
            float[] scales = new float[w.cols() / GROUP];
            byte[] q = new byte[w.cols()];
            for (int p = p0; p < p1; p++) {
                panel(w, p, dst, scales, q);
            }
        });
    }

    private static void panel(WeightMatrix w, int p, MemorySegment dst, float[] scales, byte[] q) {
        int cols = w.cols();
        long base = p * panelBytes(cols);
        for (int i = 0; i < Math.min(L, w.rows() - p * L); i++) {
            row(w, p * L + i, scales, q);
            for (int g = 0; g < cols / GROUP; g++) {
                dst.set(Dequant.FLOAT, base + scales(GROUP * g) + 4L * i, scales[g]);
            }
            for (int k = 0; k < cols; k++) {
                dst.set(Dequant.BYTE, base + quants(k) + i, q[k]);
            }
        }
    }

    /** Row r of {@code w} as its group scales and integers: value k is scales[k / 32] * q[k] (the bit layouts {@link Dequant} reads). */
    private static void row(WeightMatrix w, int r, float[] scales, byte[] q) {
        MemorySegment s = w.data();
        long p = r * w.rowBytes();
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
}
