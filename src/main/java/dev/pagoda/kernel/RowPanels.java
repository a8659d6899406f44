package dev.pagoda.kernel;

import static dev.pagoda.kernel.VectorMath.L;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

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

    static int elementBytes(TensorType type) {
        return type == TensorType.F32 ? 4 : 2;
    }

    /** The weights of {@code w} in panels, in memory that lives as long as the returned segment is reachable. */
    static MemorySegment pack(WeightMatrix w) {
        int rows = w.rows();
        int cols = w.cols();
        MemorySegment src = w.data();
        MemorySegment dst = Arena.ofAuto().allocate(bytes(w), 64);
        long rb = w.rowBytes();
        // written in order, read from L rows at a time (each source line is reused by the next columns)
        long d = 0;
        for (int r0 = 0; r0 < rows; r0 += L) {
            int n = Math.min(L, rows - r0);
            if (elementBytes(w.type()) == 4) {
                for (int k = 0; k < cols; k++, d += L) {
                    for (int i = 0; i < n; i++) {
                        dst.setAtIndex(INT, d + i, src.get(INT, (r0 + i) * rb + 4L * k));
                    }
                }
            } else {
                for (int k = 0; k < cols; k++, d += L) {
                    for (int i = 0; i < n; i++) {
                        dst.setAtIndex(SHORT, d + i, src.get(SHORT, (r0 + i) * rb + 2L * k));
                    }
                }
            }
        }
        return dst;
    }
}
