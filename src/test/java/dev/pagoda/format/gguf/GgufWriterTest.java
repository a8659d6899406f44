package dev.pagoda.format.gguf;

import dev.pagoda.TestData;
import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufWriterTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void metadataOfEveryTypeRoundTrips() {
        Path out = TestData.scratch("gguf-writer").resolve("all-types.gguf");
        new GgufWriter()
                .put("s", "héllo ▁world")
                .put("i32", -7)
                .put("i64", 1L << 40)
                .put("f32", 1.5f)
                .put("bool", true)
                .put("strings", new String[]{"a", "", "ü▁"})
                .put("floats", new float[]{1f, -2.5f})
                .put("ints", new int[]{3, -4})
                .put("u8", GgufValueType.UINT8, 200)
                .put("i8", GgufValueType.INT8, -100)
                .put("u16", GgufValueType.UINT16, 60000)
                .put("i16", GgufValueType.INT16, -30000)
                .put("u32", GgufValueType.UINT32, 4_000_000_000L)
                .put("u64", GgufValueType.UINT64, -1L)
                .put("f64", GgufValueType.FLOAT64, 0.1)
                .putArray("u8s", GgufValueType.UINT8, new int[]{0, 255})
                .putArray("u32s", GgufValueType.UINT32, new long[]{1, 4_000_000_000L})
                .putArray("f64s", GgufValueType.FLOAT64, new double[]{0.25})
                .putArray("bools", GgufValueType.BOOL, new boolean[]{true, false})
                .put("nested", GgufValueType.ARRAY, new Object[]{new int[]{1, 2}, new String[]{"x"}, new Object[]{new float[]{3f}}})
                .write(out);
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.getString("s")).isEqualTo("héllo ▁world");
            assertThat(f.getInt("i32")).isEqualTo(-7);
            assertThat(f.getLong("i64")).isEqualTo(1L << 40);
            assertThat(f.getFloat("f32")).isEqualTo(1.5f);
            assertThat(f.getBool("bool")).isTrue();
            assertThat(f.getStringArray("strings")).containsExactly("a", "", "ü▁");
            assertThat(f.getFloatArray("floats")).containsExactly(1f, -2.5f);
            assertThat(f.getIntArray("ints")).containsExactly(3, -4);
            assertThat(f.getInt("u8")).isEqualTo(200);
            assertThat(f.getInt("i8")).isEqualTo(-100);
            assertThat(f.getInt("u16")).isEqualTo(60000);
            assertThat(f.getInt("i16")).isEqualTo(-30000);
            assertThat(f.getLong("u32")).isEqualTo(4_000_000_000L);
            assertThatThrownBy(() -> f.getInt("u32")).hasMessageContaining("does not fit");
            assertThat(f.getLong("u64")).isEqualTo(-1L);
            assertThat(f.getFloat("f64")).isEqualTo(0.1f);
            assertThat(f.metadata().get("f64")).isEqualTo(0.1);
            assertThat(f.getIntArray("u8s")).containsExactly(0, 255);
            assertThat((long[]) f.metadata().get("u32s")).containsExactly(1, 4_000_000_000L);
            assertThat(f.getFloatArray("f64s")).containsExactly(0.25f);
            assertThat((boolean[]) f.metadata().get("bools")).containsExactly(true, false);
            Object[] nested = (Object[]) f.metadata().get("nested");
            assertThat((int[]) nested[0]).containsExactly(1, 2);
            assertThat((String[]) nested[1]).containsExactly("x");
            assertThat((float[]) ((Object[]) nested[2])[0]).containsExactly(3f);
            for (String key : new String[]{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "s", "u64", "i64", "f64"}) {
                assertThat(f.type(key).specName()).isEqualTo(key.equals("s") ? "string" : key);
            }
            assertThat(f.type("nested")).isEqualTo(GgufValueType.ARRAY);
        }
    }

    @Test
    void tensorsOfEachTypeRoundTripAligned() throws IOException {
        Path out = TestData.scratch("gguf-writer").resolve("tensors.gguf");
        float[] f32 = {1f, 2f, 3f, -4f, 5f, 6f};
        byte[] f16 = new byte[2 * 3 * 2]; // 2 rows x 3 cols
        for (int i = 0; i < f16.length; i++) {
            f16[i] = (byte) (i * 17);
        }
        byte[] q8 = new byte[4 * TensorType.Q8_0.bytesPerBlock]; // 2 rows x 64 cols = 4 blocks
        for (int i = 0; i < q8.length; i++) {
            q8[i] = (byte) (i * 31 + 5);
        }
        new GgufWriter(64)
                .put("general.architecture", "test")
                .addTensor("a.f32", TensorType.F32, new long[]{3, 2}, MemorySegment.ofArray(f32))
                .addTensor("b.f16", TensorType.F16, new long[]{3, 2}, f16)
                .addTensor("c.q8", TensorType.Q8_0, new long[]{64, 2}, q8)
                .addTensor("d.generated", TensorType.F32, new long[]{5}, dst -> {
                    for (int i = 0; i < 5; i++) {
                        dst.setAtIndex(F32, i, i * 0.5f);
                    }
                })
                .write(out);
        try (GgufFile f = GgufFile.open(out)) {
            assertThat(f.alignment()).isEqualTo(64);
            assertThat(f.dataOffset() % 64).isZero();
            assertThat(f.tensors()).extracting(GgufTensorInfo::name).containsExactly("a.f32", "b.f16", "c.q8", "d.generated");
            for (GgufTensorInfo t : f.tensors()) {
                assertThat(t.offset() % 64).as(t.name()).isZero();
            }
            WeightMatrix a = f.tensor("a.f32");
            assertThat(a.rows()).isEqualTo(2);
            assertThat(a.cols()).isEqualTo(3);
            assertThat(a.data().toArray(F32)).containsExactly(f32);
            WeightMatrix b = f.tensor("b.f16");
            assertThat(b.type()).isEqualTo(TensorType.F16);
            assertThat(b.data().toArray(ValueLayout.JAVA_BYTE)).containsExactly(f16);
            WeightMatrix c = f.tensor("c.q8");
            assertThat(c.type()).isEqualTo(TensorType.Q8_0);
            assertThat(c.rows()).isEqualTo(2);
            assertThat(c.cols()).isEqualTo(64);
            assertThat(c.data().toArray(ValueLayout.JAVA_BYTE)).containsExactly(q8);
            assertThat(f.tensor("d.generated").data().toArray(F32)).containsExactly(0f, 0.5f, 1f, 1.5f, 2f);
        }
        assertThat(Files.size(out) % 64).isZero();
    }

    /** Rewriting stories260K.gguf's metadata (with its types) and tensors reproduces the file byte for byte. */
    @Test
    void rewritingStories260KIsByteIdentical() throws IOException {
        Path out = TestData.scratch("gguf-writer").resolve("stories260K-copy.gguf");
        try (GgufFile in = GgufFile.open(GgufFileTest.STORIES)) {
            GgufWriter w = new GgufWriter();
            in.metadata().forEach((k, v) -> w.put(k, in.type(k), v));
            for (GgufTensorInfo t : in.tensors()) {
                w.addTensor(t.name(), t.type(), t.ne(), in.tensor(t.name()).data());
            }
            w.write(out);
        }
        assertThat(Files.mismatch(out, GgufFileTest.STORIES)).isEqualTo(-1L);
    }

    @Test
    void rejectsMisuse() {
        GgufWriter w = new GgufWriter();
        assertThatThrownBy(() -> w.addTensor("x", TensorType.F32, new long[]{4}, new byte[15]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'x'");
        assertThatThrownBy(() -> w.addTensor("q", TensorType.Q8_0, new long[]{16}, new byte[17]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 32");
        assertThatThrownBy(() -> w.put("k", GgufValueType.UINT8, 256)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.put("k", GgufValueType.STRING, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> w.put(GgufFile.ALIGNMENT_KEY, GgufValueType.UINT32, 64)).isInstanceOf(IllegalArgumentException.class);
        w.put(GgufFile.ALIGNMENT_KEY, GgufValueType.UINT32, 32);
        w.addTensor("y", TensorType.F32, new long[]{1}, new byte[4]);
        assertThatThrownBy(() -> w.addTensor("y", TensorType.F32, new long[]{1}, new byte[4]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicate");
    }
}
