package dev.pagoda.engine;

import com.sun.management.OperatingSystemMXBean;
import dev.pagoda.PagodaException;
import dev.pagoda.kv.ByteSize;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvShape;
import dev.pagoda.model.ModelConfig;
import java.lang.management.ManagementFactory;

/** The size of the KV cache: as configured, or by default from free memory; and the max model length it allows. */
final class KvBudget {
    /** Share of the machine's free memory the KV cache may take by default. */
    static final double FREE_MEMORY_FRACTION = 0.25;

    private KvBudget() {
    }

    /** The KV memory allocated for an engine and the longest sequence it serves. */
    record Sized(KvMemory memory, int maxModelLen) {
    }

    /**
     * Allocates the KV memory ({@code --kv-cache-memory}, or {@link #automatic}). The max model length is the
     * configured one (refused when it exceeds the model's context, or when one such sequence cannot fit in the
     * cache) or the model's context length, capped by the cache. A sequence fits when the slots it holds at once
     * do: its whole length, or with the paged layout and a sliding window on every layer, its window and a step's
     * chunk ({@link KvAllocator#slotsHeldAtMost}), so such a model serves sequences longer than the cache.
     */
    static Sized allocate(ModelConfig mc, EngineConfig config) {
        KvShape shape = new KvShape(mc.layers(), mc.kvHeads(), mc.headDim(), config.blockSize(), config.kvDtype());
        int modelLen = config.maxModelLen() == 0 ? mc.contextLength() : config.maxModelLen();
        if (modelLen > mc.contextLength()) {
            throw new PagodaException("--max-model-len " + modelLen + " exceeds the model's context length " + mc.contextLength());
        }
        int held = KvAllocator.slotsHeldAtMost(config.kvLayout(), config.blockSize(), mc.maxWindow(), modelLen,
                config.maxNumBatchedTokens());
        long kvBytes = config.kvCacheMemory() > 0 ? config.kvCacheMemory() : automatic(shape, config.maxNumSeqs(), held);
        KvMemory memory = KvMemory.allocate(shape, kvBytes);
        if (held > memory.totalSlots()) {
            if (config.maxModelLen() != 0) {
                memory.close();
                throw new PagodaException("--max-model-len " + modelLen + " tokens do not fit in the KV cache of " + memory.totalSlots()
                        + " token slots (" + ByteSize.format(kvBytes) + "); raise --kv-cache-memory or lower --max-model-len");
            }
            modelLen = memory.totalSlots();
        }
        return new Sized(memory, modelLen);
    }

    /**
     * A quarter of free physical memory, but no more than maxNumSeqs sequences holding {@code slotsPerSequence}
     * slots each can use, and no less than one such sequence.
     */
    static long automatic(KvShape shape, int maxNumSeqs, int slotsPerSequence) {
        long perSequence = (long) slotsPerSequence * shape.bytesPerToken();
        long free = ManagementFactory.getPlatformMXBean(OperatingSystemMXBean.class).getFreeMemorySize();
        long bytes = Math.min((long) (free * FREE_MEMORY_FRACTION), perSequence * maxNumSeqs);
        long oneBlockPadded = perSequence + shape.bytesPerBlock();
        return Math.max(bytes, oneBlockPadded);
    }
}
