package dev.pagoda.engine;

import dev.pagoda.kv.KvShape;
import java.lang.management.ManagementFactory;

/** The default size of the KV cache when none is given. */
final class KvBudget {
    /** Share of the machine's free memory the KV cache may take by default. */
    static final double FREE_MEMORY_FRACTION = 0.25;

    private KvBudget() {
    }

    /**
     * A quarter of free physical memory, but no more than maxNumSeqs sequences of maxModelLen tokens can
     * use, and no less than one such sequence.
     */
    static long automatic(KvShape shape, int maxNumSeqs, int maxModelLen) {
        long perSequence = (long) maxModelLen * shape.bytesPerToken();
        long free = ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class).getFreeMemorySize();
        long bytes = Math.min((long) (free * FREE_MEMORY_FRACTION), perSequence * maxNumSeqs);
        long oneBlockPadded = perSequence + shape.bytesPerBlock();
        return Math.max(bytes, oneBlockPadded);
    }
}
