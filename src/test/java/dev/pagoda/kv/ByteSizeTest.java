package dev.pagoda.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pagoda.PagodaException;
import org.junit.jupiter.api.Test;

class ByteSizeTest {
    @Test
    void parsesUnitsAndFractions() {
        assertThat(ByteSize.parse("512MiB")).isEqualTo(512L << 20);
        assertThat(ByteSize.parse("2GiB")).isEqualTo(2L << 30);
        assertThat(ByteSize.parse("1.5GB")).isEqualTo(1_500_000_000L);
        assertThat(ByteSize.parse("4096")).isEqualTo(4096);
        assertThat(ByteSize.parse(" 8 kib ")).isEqualTo(8192);
        assertThat(ByteSize.parse("10B")).isEqualTo(10);
        assertThat(ByteSize.parse("0.5KiB")).isEqualTo(512);
    }

    @Test
    void acceptsTheSpellingsOfVllmAndTheJvm() {
        for (String four : new String[] {"4GiB", "4G", "4g", "4gib", "4 GiB"}) {
            assertThat(ByteSize.parse(four)).as(four).isEqualTo(4L << 30);
        }
        assertThat(ByteSize.parse("512MB")).isEqualTo(512_000_000L);
        assertThat(ByteSize.parse("512MiB")).isEqualTo(ByteSize.parse("512m")).isEqualTo(512L << 20);
        assertThat(ByteSize.parse("4", 1L << 30)).as("a bare number in the caller's unit").isEqualTo(4L << 30);
        assertThat(ByteSize.parse("4B", 1L << 30)).isEqualTo(4);
    }

    @Test
    void exactFormReadsBack() {
        for (long b : new long[] {0, 100, 1L << 30, 1536L << 20, 12L << 30, 1_500_000_000L}) {
            assertThat(ByteSize.parse(ByteSize.exact(b))).isEqualTo(b);
        }
        assertThat(ByteSize.exact(1L << 30)).isEqualTo("1GiB");
        assertThat(ByteSize.exact(1536L << 20)).isEqualTo("1536MiB");
    }

    @Test
    void rejectsBadInputWithOneClearLine() {
        assertThatThrownBy(() -> ByteSize.parse("12 parsecs")).isInstanceOf(PagodaException.class)
                .hasMessageContaining("unknown unit 'parsecs'");
        assertThatThrownBy(() -> ByteSize.parse("-1GiB")).isInstanceOf(PagodaException.class)
                .hasMessageContaining("invalid byte size '-1GiB'");
        assertThatThrownBy(() -> ByteSize.parse("")).isInstanceOf(PagodaException.class);
        assertThatThrownBy(() -> ByteSize.parse("99999999TiB")).isInstanceOf(PagodaException.class)
                .hasMessageContaining("too large");
    }

    @Test
    void kvShapeSizesBlocks() {
        KvShape shape = new KvShape(5, 4, 8, 16, KvDtype.F16);
        assertThat(shape.bytesPerBlock()).isEqualTo(5L * 2 * 4 * 8 * 16 * 2);
        assertThat(shape.blocksIn(ByteSize.parse("1MiB"))).isEqualTo((1 << 20) / (5 * 2 * 4 * 8 * 16 * 2));
        assertThatThrownBy(() -> new KvShape(5, 4, 8, 257, KvDtype.F32)).isInstanceOf(PagodaException.class);
        assertThatThrownBy(() -> KvMemory.allocate(shape, 100)).isInstanceOf(PagodaException.class)
                .hasMessageContaining("smaller than one block");
    }
}
