package dev.pagoda.format.gguf;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable little-endian byte buffer for the part of a GGUF file before the data section. */
final class GgufHeaderBuffer {
    private static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private byte[] buf = new byte[4096];
    private int size;

    private int grow(int n) {
        if (size + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(size + n, buf.length * 2));
        }
        int at = size;
        size += n;
        return at;
    }

    void u8(int v) {
        int at = grow(1);
        buf[at] = (byte) v;
    }

    void u16(int v) {
        int at = grow(2); // before reading buf: grow may replace it
        I16.set(buf, at, (short) v);
    }

    void u32(int v) {
        int at = grow(4);
        I32.set(buf, at, v);
    }

    void u64(long v) {
        int at = grow(8);
        I64.set(buf, at, v);
    }

    void f32(float v) {
        u32(Float.floatToRawIntBits(v));
    }

    void f64(double v) {
        u64(Double.doubleToRawLongBits(v));
    }

    void string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        int at = grow(b.length);
        System.arraycopy(b, 0, buf, at, b.length);
    }

    int size() {
        return size;
    }

    byte[] array() {
        return buf;
    }
}
