package dev.pagoda.kernel;

import java.lang.foreign.MemorySegment;

/**
 * A read-only weight matrix of {@code rows x cols} elements in {@code type}'s encoding, row-major,
 * usually a slice of a memory-mapped model file (little-endian). Row r starts at byte
 * {@code r * rowBytes()}. A 1-D tensor of n elements is a matrix of 1 row and n columns.
 *
 * <p>{@code panels} is null, or the same weights repacked by {@link #packed()} into {@link RowPanels},
 * {@link Int8Panels}, {@link Q4_0Panels}, {@link Q4KPanels} or {@link Q6KPanels} (the layouts the matmul streams); {@code data} stays for what reads rows (embedding lookups, a tied output matrix's rows).
 */
public record WeightMatrix(String name, TensorType type, MemorySegment data, int rows, int cols, MemorySegment panels) {
    public WeightMatrix {
        long need = (long) rows * type.bytesFor(cols);
        if (data.byteSize() < need) {
            throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes for " + rows + "x" + cols + " " + type + " (need " + need + ")");
        }
    }

    /** Rows only, not repacked. */
    public WeightMatrix(String name, TensorType type, MemorySegment data, int rows, int cols) {
        this(name, type, data, rows, cols, null);
    }

    /**
     * This matrix with its weights also repacked into panels, when its type has a panel kernel (F32, BF16, F16 of
     * finite values; Q8_0, Q5_0; Q4_0; Q4_K, Q5_K; Q6_K); otherwise this matrix. A one-time copy (made by {@link Repack#forKernels}) into memory of
     * its own ({@link RowPanels#bytes}: the matrix's bytes, the last panel's padding aside; {@link Int8Panels#panelBytes}:
     * 9 bits a weight; {@link Q4_0Panels#panelBytes}: 5; {@link Q4KPanels#panelBytes}: 4.75 (Q5_K 5.75); {@link Q6KPanels#panelBytes}: 8.625), after which the mapped pages of the
     * rows are released.
     */
    public WeightMatrix packed() {
        if (panels != null || !RowPanels.supports(type) && !Int8Panels.supports(type) && !Q4_0Panels.supports(type)
                && !Q4KPanels.supports(type) && !Q6KPanels.supports(type)) {
            return this;
        }
        MemorySegment p = Q4KPanels.supports(type) ? Q4KPanels.pack(this) : Q6KPanels.supports(type) ? Q6KPanels.pack(this)
                : Q4_0Panels.supports(type) ? Q4_0Panels.pack(this) : Int8Panels.supports(type) ? Int8Panels.pack(this) : RowPanels.pack(this);
        if (p == null) {
            return this;  // an F16 matrix with an Inf or NaN: its rows run the exact row path
        }
        if (data.isMapped()) {
            data.unload();  // the file's pages (read-only mapping) are read again only where rows are still read
        }
        return new WeightMatrix(name, type, data, rows, cols, p);
    }

    /**
     * The rows of panels {@code [fromPanel, toPanel)} (rows fromPanel*L up to toPanel*L or the last row) as a matrix
     * of their own over the same memory; for a matrix without panels, the same rows of its row-major data (the rows
     * kernels tile rows in fours, and L is a multiple of four, so the tiles fall as over the whole matrix). A matmul
     * over it computes each of its rows exactly as over the whole matrix; null where that could not hold.
     */
    public WeightMatrix panelRows(int fromPanel, int toPanel) {
        int from = fromPanel * VectorMath.L, to = Math.min(rows, toPanel * VectorMath.L);
        if (fromPanel < 0 || from >= to) {
            throw new IllegalArgumentException(name + ": panels [" + fromPanel + ", " + toPanel + ") of " + RowPanels.count(rows));
        }
        String slice = name + "[" + from + ":" + to + "]";
        MemorySegment sliceRows = data.asSlice(from * rowBytes(), (to - from) * rowBytes());
        if (panels == null) {
            return VectorMath.L % MatMul.ROW_TILE == 0 ? new WeightMatrix(slice, type, sliceRows, to - from, cols) : null;
        }
        long panelBytes = panelBytes();
        return new WeightMatrix(slice, type, sliceRows, to - from, cols,
                panels.asSlice(fromPanel * panelBytes, (long) RowPanels.count(to - from) * panelBytes));
    }

    /** Bytes of one of this matrix's panels: every panel layout holds each panel in bytes of its own, as many for each. */
    long panelBytes() {
        return Q4KPanels.supports(type) ? Q4KPanels.panelBytes(type, cols) : Q6KPanels.supports(type) ? Q6KPanels.panelBytes(cols)
                : Q4_0Panels.supports(type) ? Q4_0Panels.panelBytes(cols) : Int8Panels.supports(type) ? Int8Panels.panelBytes(cols)
                : (long) VectorMath.L * cols * RowPanels.elementBytes(type);
    }

    /** Panels of L rows this matrix's rows make (the last one padded). */
    public int panelCount() {
        return RowPanels.count(rows);
    }

    public long rowBytes() {
        return type.bytesFor(cols);
    }

    public long byteSize() {
        return rows * rowBytes();
    }
}
