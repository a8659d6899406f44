package dev.pagoda.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Zeroed memory for repacked weights and the KV cache, backed by transparent huge pages where Linux allows them (mmap,
 * then madvise MADV_HUGEPAGE before the first write): the weights stream from memory every decode step, and over 4 KiB
 * pages each stream takes a TLB miss every 4 KiB; decode attention reads each sequence's blocks wherever they lie, and
 * between layers the weight stream evicts the page-table lines, so on small pages each 4 KiB stretch of K or V also
 * waited for a page walk from memory. Plain memory elsewhere, when a call fails, or with
 * {@code -Dpagoda.noHugePages=true} (to compare).
 */
public final class HugePages {
    private static final long HUGE = 2L << 20;
    private static final int PROT_READ_WRITE = 3, MAP_PRIVATE_ANONYMOUS = 0x22, MADV_HUGEPAGE = 14;
    private static final boolean ENABLED = !Boolean.getBoolean("pagoda.noHugePages");
    private static final MethodHandle MMAP, MADVISE, MUNMAP;

    static {
        MethodHandle mmap = null, madvise = null, munmap = null;
        try {
            if (ENABLED && System.getProperty("os.name").startsWith("Linux")) {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            }
        } catch (RuntimeException | LinkageError e) {
            mmap = null;
        }
        MMAP = mmap;
        MADVISE = madvise;
        MUNMAP = munmap;
    }

    private HugePages() {
    }

    /** {@code bytes} zeroed bytes, 64-byte aligned at least, freed once the segment is unreachable. */
    static MemorySegment allocate(long bytes) {
        return allocate(bytes, Arena.ofAuto());
    }

    /** {@code bytes} zeroed bytes, 64-byte aligned at least, freed when {@code arena} closes. */
    public static MemorySegment allocate(long bytes, Arena arena) {
        if (MMAP == null || bytes < HUGE) {
            return arena.allocate(bytes, 64);
        }
        try {
            // a huge page more than asked, so a 2 MiB-aligned start can be chosen inside the mapping
            long mapped = bytes + HUGE;
            MemorySegment base = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, mapped, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
            if (base.address() == -1L) {
                return arena.allocate(bytes, 64);
            }
            long start = (base.address() + HUGE - 1) & -HUGE;
            // whole huge pages only: the tail stays in small pages, so no matrix takes up to 2 MiB more than its size
            int ignored = (int) MADVISE.invokeExact(MemorySegment.ofAddress(start), bytes & -HUGE, MADV_HUGEPAGE);
            long baseAddress = base.address();
            return MemorySegment.ofAddress(start).reinterpret(bytes, arena, s -> unmap(baseAddress, mapped));
        } catch (Throwable e) {
            return arena.allocate(bytes, 64);
        }
    }

    private static void unmap(long address, long bytes) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), bytes);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
