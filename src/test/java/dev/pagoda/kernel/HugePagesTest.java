package dev.pagoda.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HugePagesTest {
    /** Below a huge page (plain memory) and past a few (mapped): the size asked, 64-byte aligned, zeroed, writable to its end. */
    @ParameterizedTest
    @ValueSource(longs = {1, 4096, (3L << 20) + 5, 9L << 20})
    void zeroedAlignedWritableMemory(long bytes) {
        MemorySegment s = HugePages.allocate(bytes);
        assertThat(s.byteSize()).isEqualTo(bytes);
        assertThat(s.address() % 64).isZero();
        for (long i = 0; i < bytes; i += 4093) {
            assertThat(s.get(ValueLayout.JAVA_BYTE, i)).isZero();
        }
        assertThat(s.get(ValueLayout.JAVA_BYTE, bytes - 1)).isZero();
        s.set(ValueLayout.JAVA_BYTE, 0, (byte) 9);
        assertThat(s.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 9);
        s.set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) 7);
        assertThat(s.get(ValueLayout.JAVA_BYTE, bytes - 1)).isEqualTo((byte) 7);
    }
}
