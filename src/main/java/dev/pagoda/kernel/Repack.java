package dev.pagoda.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Weights rewritten once at load into the layouts the kernels stream: F32, F16, BF16, Q8_0 and Q5_0 gain panels
 * ({@link WeightMatrix#packed}: {@link RowPanels}, {@link Int8Panels}); Q6_K and Q4_K are rewritten as rows
 * ({@link TensorType#Q6_K_R}, {@link TensorType#Q4_K_R}): per row, the block scales as floats (no f16 conversion
 * per block per token), then the quants, whole and aligned (no 210-byte blocks straddling cache lines, no
 * 6-bit scale unpacking). Q6_K keeps its exact values; Q4_K's element is {@code fma(q, d*scale,
 * -dmin*min)}, one rounding instead of Q4_K's two. The copy lives off-heap beside the mapped file (bytes per weight:
 * Q8_0 8.5 -> 9, Q5_0 5.5 -> 9 (int8 panels), Q6_K 6.56 -> 10, Q4_K 4.5 -> 6); other types are used as they are.
 */
public final class Repack {
    private static final long ALIGNMENT = 64;

    private Repack() {
    }

    /** The layout of {@code type} the kernels stream, or {@code type} itself when it is used as it is. */
    public static TensorType kernelType(TensorType type) {
        return switch (type) {
            default -> type;
        };
    }

    /**
     * {@code m} in its kernel layout: a new off-heap copy (freed with the returned matrix); F32, F16, BF16, Q8_0 and Q5_0
     * with their rows also in panels ({@link WeightMatrix#packed}); {@code m} itself for the types used as they are.
     */
    public static WeightMatrix forKernels(WeightMatrix m) {
        TensorType to = kernelType(m.type());
        if (to == m.type()) {
            return m.packed();
        }
        int rows = m.rows();
        long rowBytes = to.bytesFor(m.cols());
        MemorySegment dst = Arena.ofAuto().allocate(rows * rowBytes, ALIGNMENT);
        RangeTask task = (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                row(m, r, dst, r * rowBytes);
            }
        };
        if ((long) rows * m.cols() < WorkerPool.INLINE_WORK) {
            task.run(0, rows);
        } else {
            WorkerPool.shared().parallelFor(rows, task);
        }
        return new WeightMatrix(m.name(), to, dst, rows, m.cols());
    }

    private static void row(WeightMatrix m, int r, MemorySegment dst, long d) {
        MemorySegment s = m.data();
        long p = r * m.rowBytes();
        int n = m.cols();
        switch (m.type()) {
            case Q6_K -> q6_K(s, p, n, dst, d);
            case Q4_K -> q4_K(s, p, n, dst, d);
            default -> throw new IllegalArgumentException("no repack for " + m.type());
        }
    }

    /** Scale k of a super-block covers its elements [16k, 16k + 16); the bit layout is the one {@link Dequant} reads. */
    private static void q6_K(MemorySegment s, long p, int n, MemorySegment dst, long d) {
        long quants = d + n / 4;
        for (int b = 0; b < n / 256; b++) {
            long blk = p + 210L * b;
            float scale = Dequant.half(s, blk + 208);
            for (int k = 0; k < 16; k++) {
                dst.set(Dequant.FLOAT, d + 4L * (16 * b + k), scale * s.get(Dequant.BYTE, blk + 192 + k));
            }
            for (int h = 0; h < 2; h++) {
                long ql = blk + 64L * h;
                long qh = blk + 128 + 32L * h;
                long y = quants + 256L * b + 128L * h;
                for (int l = 0; l < 32; l++) {
                    int lo = s.get(Dequant.BYTE, ql + l) & 0xFF;
                    int lo32 = s.get(Dequant.BYTE, ql + l + 32) & 0xFF;
                    int hi = s.get(Dequant.BYTE, qh + l) & 0xFF;
                    dst.set(Dequant.BYTE, y + l, (byte) (((lo & 0xF) | ((hi & 3) << 4)) - 32));
                    dst.set(Dequant.BYTE, y + l + 32, (byte) (((lo32 & 0xF) | (((hi >>> 2) & 3) << 4)) - 32));
                    dst.set(Dequant.BYTE, y + l + 64, (byte) (((lo >>> 4) | (((hi >>> 4) & 3) << 4)) - 32));
                    dst.set(Dequant.BYTE, y + l + 96, (byte) (((lo32 >>> 4) | ((hi >>> 6) << 4)) - 32));
                }
            }
        }
    }

    /**
     * Sub-block j (elements [32j, 32j + 32)) gets step d * scale at float j, offset -dmin * min at float cols/32 + j,
     * and 16 bytes at cols/4 + 16j: byte i holds element i in its low nibble and element i + 16 in its high nibble,
     * so one 16-byte load widened to 16 lanes gives the sub-block's two halves with a mask and a shift.
     */
    private static void q4_K(MemorySegment s, long p, int n, MemorySegment dst, long d) {
        int subBlocks = n / 32;
        long offsets = d + 4L * subBlocks;
        long nibbles = d + 8L * subBlocks;
        for (int b = 0; b < n / 256; b++) {
            long blk = p + 144L * b;
            float scale = Dequant.half(s, blk);
            float min = Dequant.half(s, blk + 2);
            for (int j = 0; j < 8; j++) {
                int sb = 8 * b + j;
                dst.set(Dequant.FLOAT, d + 4L * sb, scale * Dequant.scaleK4(s, blk + 4, j));
                dst.set(Dequant.FLOAT, offsets + 4L * sb, -(min * Dequant.minK4(s, blk + 4, j)));
                // sub-block j is the low (even j) or high (odd j) nibbles of the 32 bytes of group j / 2
                long qs = blk + 16 + 32L * (j / 2);
                int shift = 4 * (j % 2);
                for (int i = 0; i < 16; i++) {
                    int lo = ((s.get(Dequant.BYTE, qs + i) & 0xFF) >>> shift) & 0xF;
                    int hi = ((s.get(Dequant.BYTE, qs + i + 16) & 0xFF) >>> shift) & 0xF;
                    dst.set(Dequant.BYTE, nibbles + 16L * sb + i, (byte) (lo | hi << 4));
                }
            }
        }
    }
}
