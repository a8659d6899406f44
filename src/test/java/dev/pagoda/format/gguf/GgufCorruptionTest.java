package dev.pagoda.format.gguf;

import dev.pagoda.PagodaException;
import dev.pagoda.TestData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** Corrupt copies of stories260K.gguf (written under target/) fail with one-line PagodaExceptions naming the file. */
class GgufCorruptionTest {
    private static byte[] original;
    private static long dataOffset;
    private static Path dir;

    @BeforeAll
    static void load() throws IOException {
        original = Files.readAllBytes(GgufFileTest.STORIES);
        try (GgufFile f = GgufFile.open(GgufFileTest.STORIES)) {
            dataOffset = f.dataOffset();
        }
        dir = TestData.scratch("gguf-corrupt");
    }

    private static Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private static void assertRejected(Path p, String... messageParts) {
        Throwable t = catchThrowable(() -> GgufFile.open(p).close());
        assertThat(t).as(p.getFileName().toString()).isInstanceOf(PagodaException.class);
        assertThat(t.getMessage()).contains(p.toString()).doesNotContain("\n").contains(messageParts);
    }

    private static byte[] patched(int at, long value, int width) {
        byte[] b = original.clone();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (width == 4) {
            bb.putInt(at, (int) value);
        } else {
            bb.putLong(at, value);
        }
        return b;
    }

    /** Offset just past the last occurrence of the GGUF string {@code text} (u64 length + bytes) in the file. */
    private static int after(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        byte[] needle = ByteBuffer.allocate(8 + utf8.length).order(ByteOrder.LITTLE_ENDIAN).putLong(utf8.length).put(utf8).array();
        for (int i = original.length - needle.length; i >= 0; i--) {
            if (Arrays.equals(original, i, i + needle.length, needle, 0, needle.length)) {
                return i + needle.length;
            }
        }
        throw new AssertionError(text + " not found");
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 3, 4, 7, 8, 12, 23, 24, 30, 100, 5000, -200, -1, -40, -1000, -100000})
    void truncatedCopiesAreRejected(long cut) throws IOException {
        // Positive: cut in the header/metadata; negative: relative to the data section (infos) or the end (data).
        int length = (int) (cut > 0 ? cut : cut >= -1000 && cut <= -200 ? dataOffset + cut : original.length + cut);
        Path p = write("truncated-" + length + ".gguf", Arrays.copyOf(original, length));
        assertRejected(p, "truncated");
    }

    @Test
    void emptyFileIsRejected() throws IOException {
        assertRejected(write("empty.gguf", new byte[0]), "empty");
    }

    @Test
    void badMagicIsRejected() throws IOException {
        byte[] b = original.clone();
        b[0] = 'X';
        assertRejected(write("bad-magic.gguf", b), "not a GGUF file");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 4, 0x03000000})
    void unsupportedVersionsAreRejected(int version) throws IOException {
        Path p = write("version-" + version + ".gguf", patched(4, version, 4));
        assertRejected(p, version == 0x03000000 ? "big-endian" : "version " + version);
    }

    @Test
    void unknownTensorTypeIsRejectedNamingTensorAndTypeId() throws IOException {
        // token_embd.weight's info: name, u32 n_dims (2), 2 x u64 ne, then the u32 type id.
        int typeAt = after("token_embd.weight") + 4 + 16;
        assertThat(ByteBuffer.wrap(original).order(ByteOrder.LITTLE_ENDIAN).getInt(typeAt)).isZero();
        assertRejected(write("unknown-type.gguf", patched(typeAt, 10, 4)), "token_embd.weight", "type id 10");  // Q2_K
    }

    @Test
    void absurdCountsAndLengthsAreRejected() throws IOException {
        assertRejected(write("tensor-count.gguf", patched(8, 1L << 40, 8)), "tensor count");
        assertRejected(write("kv-count.gguf", patched(16, -1L, 8)), "metadata entry count");
        // tokenizer.ggml.tokens: u32 ARRAY, u32 STRING, u64 count, then the first string's u64 length.
        int countAt = after("tokenizer.ggml.tokens") + 8;
        assertRejected(write("array-count.gguf", patched(countAt, Long.MAX_VALUE, 8)), "array length");
        assertRejected(write("string-length.gguf", patched(countAt + 8, 1L << 50, 8)), "string length", "tokenizer.ggml.tokens");
        int nDimsAt = after("token_embd.weight");
        assertRejected(write("n-dims.gguf", patched(nDimsAt, 5, 4)), "5 dimensions");
        assertRejected(write("negative-ne.gguf", patched(nDimsAt + 4, -64, 8)), "negative");
        assertRejected(write("misaligned.gguf", patched(after("output.weight") + 4 + 16 + 4, 4, 8)), "alignment");
        assertRejected(write("value-type.gguf", patched(after("tokenizer.ggml.tokens"), 77, 4)), "value type 77");
    }

    @Test
    void tensorDataBeyondTheEndIsRejected() throws IOException {
        int offsetAt = after("output.weight") + 4 + 16 + 4;
        assertRejected(write("offset-beyond.gguf", patched(offsetAt, 1L << 21, 8)), "output.weight", "beyond the end");
    }

    /** Random byte damage in the header and metadata never escapes as anything but a PagodaException. */
    @Test
    void randomDamageOnlyEverFailsAsPagodaException() throws IOException {
        Random random = new Random(42);
        Path p = dir.resolve("fuzz.gguf");
        for (int round = 0; round < 200; round++) {
            byte[] b = original.clone();
            for (int k = 0, n = 1 + random.nextInt(4); k < n; k++) {
                b[random.nextInt((int) dataOffset)] = (byte) random.nextInt(256);
            }
            if (round % 3 == 0) {
                b = Arrays.copyOf(b, random.nextInt(b.length));
            }
            Files.write(p, b);
            Throwable t = catchThrowable(() -> {
                try (GgufFile f = GgufFile.open(p)) {
                    for (GgufTensorInfo info : f.tensors()) {
                        f.tensor(info.name());
                    }
                }
            });
            if (t != null) {
                assertThat(t).as("round " + round).isInstanceOf(PagodaException.class);
                assertThat(t.getMessage()).contains(p.toString());
            }
        }
    }

    @Test
    void version2IsAccepted() throws IOException {
        try (GgufFile f = GgufFile.open(write("version-2.gguf", patched(4, 2, 4)))) {
            assertThat(f.version()).isEqualTo(2);
            assertThat(f.tensors()).hasSize(48);
        }
        assertThatThrownBy(() -> GgufFile.open(dir.resolve("nope.gguf"))).isInstanceOf(PagodaException.class);
    }
}
