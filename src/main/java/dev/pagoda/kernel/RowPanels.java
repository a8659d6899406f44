package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.Function;
import java.util.function.ObjIntConsumer;

/**
 * The repacked layout of a float weight matrix (F32, BF16, F16, elements unchanged): rows in panels of L (the
 * last one padded with zero rows), each panel column-major, so column k of a panel is L consecutive elements,
 * one vector. The matmul then computes L rows of a token as an outer product (per column: one weight vector
 * times the broadcast activation), with no horizontal sums, reading each panel front to back.
 * Panel p starts at element {@code p * cols * L}; row p*L + i, column k is element {@code (p * cols + k) * L + i}.
 */
final class RowPanels {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RowPanels() {
    }

    /** Whether {@code type} has panel kernels here: 2-byte types are widened with {@link RowDecoder}'s vectors. */
    static boolean supports(TensorType type) {
        return type == TensorType.F32 || (type == TensorType.F16 || type == TensorType.BF16) && RowDecoder.VECTOR;
    }

    static int count(int rows) {
        return (rows + L - 1) / L;
    }

    /** Bytes of the packed copy of {@code w}. */
    static long bytes(WeightMatrix w) {
        return (long) count(w.rows()) * L * w.cols() * elementBytes(w.type());
    }

    /**
     * Fresh zeroed memory for the panels of {@code w}, {@code panelBytes} each (the last panel's padding rows stay
     * zero), written by the task {@code writer} makes for it, over the {@link WorkerPool} unless the matrix is small:
     * the packing of the quantized panel layouts, once at load.
     */
    static MemorySegment packInParallel(WeightMatrix w, long panelBytes, Function<MemorySegment, RangeTask> writer) {
        MemorySegment dst = HugePages.allocate(count(w.rows()) * panelBytes);
        RangeTask task = writer.apply(dst);
        if ((long) w.rows() * w.cols() < WorkerPool.INLINE_WORK) {
            task.run(0, count(w.rows()));
        } else {
            WorkerPool.shared().parallelFor(count(w.rows()), task);
        }
        return dst;
    }

    /** {@link #packInParallel} for layouts whose panels need no scratch: {@code panel} writes panel p into dst. */
    static MemorySegment packEach(WeightMatrix w, long panelBytes, ObjIntConsumer<MemorySegment> panel) {
        return packInParallel(w, panelBytes, dst -> (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                panel.accept(dst, p);
            }
        });
    }

    static int elementBytes(TensorType type) {
        return type == TensorType.F32 ? 4 : 2;
    }

    /**
     * The weights of {@code w} in panels, in memory that lives as long as the returned segment is reachable; null for
     * an F16 matrix holding an Inf or NaN, which the F16 tiles would not widen exactly ({@link PanelTile#F16}).
     */
    static MemorySegment pack(WeightMatrix w) {
        int rows = w.rows();
        int cols = w.cols();
        MemorySegment src = w.data();
        MemorySegment dst = HugePages.allocate(bytes(w));
        long rb = w.rowBytes();
        // a panel's rows are copied to a heap array, transposed there and copied out: bulk copies and plain array loops
        if (elementBytes(w.type()) == 4) {
            int[] in = new int[L * cols];
            int[] out = new int[L * cols];
            for (int p = 0; p < count(rows); p++) {
                int n = Math.min(L, rows - p * L);
                MemorySegment.copy(src, INT, p * L * rb, in, 0, n * cols);
                if (n < L) {
                    Arrays.fill(out, 0);  // the padding rows of the last panel
                }
                for (int k = 0; k < cols; k++) {
                    for (int i = 0; i < n; i++) {
                        out[k * L + i] = in[i * cols + k];
                    }
                }
                MemorySegment.copy(out, 0, dst, INT, (long) p * L * cols * 4, L * cols);
            }
        } else {
            short[] in = new short[L * cols];
            short[] out = new short[L * cols];
            for (int p = 0; p < count(rows); p++) {
                int n = Math.min(L, rows - p * L);
                MemorySegment.copy(src, SHORT, p * L * rb, in, 0, n * cols);
                if (w.type() == TensorType.F16 && !finite(in, n * cols)) {
                    return null;
                }
                if (n < L) {
                    Arrays.fill(out, (short) 0);  // the padding rows of the last panel
                }
                for (int k = 0; k < cols; k++) {
                    for (int i = 0; i < n; i++) {
                        out[k * L + i] = in[i * cols + k];
                    }
                }
                MemorySegment.copy(out, 0, dst, SHORT, (long) p * L * cols * 2, L * cols);
            }
        }
        return dst;
    }

    /** Whether the first {@code n} halves of {@code h} are finite (exponent field not all ones). */
    private static boolean finite(short[] h, int n) {
        int special = 0;
        for (int i = 0; i < n; i++) {
            special |= (h[i] & 0x7C00) + 0x400 & 0x8000;  // carries into bit 15 only from an all-ones exponent
        }
        return special == 0;
    }
}
