package dev.pagoda.engine;

import dev.pagoda.kv.BlockMapWriter;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.scheduler.Sequence;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Publishes the {@link KvBlockMap} from the engine thread, after a step and only while someone watches; readers
 * on other threads take the latest without waiting and without a lock. The engine writes into a buffer that no
 * reader holds (a new buffer only when all are held), then publishes it by swapping one reference; turning the
 * map into text is the reader's work.
 */
public final class BlockMapPublisher {
    /** What the map tells of a sequence: its request and its index in it. */
    public interface Owner {
        String requestId();

        int sampleIndex();
    }

    private final AtomicInteger watchers = new AtomicInteger();
    private final List<KvBlockMap> buffers = new ArrayList<>();
    private final List<KvSequence> placements = new ArrayList<>();
    private final Writer writer = new Writer();
    private volatile KvBlockMap published;
    /** Whether the published map still shows the engine's state (nothing ran since it was taken). */
    private volatile boolean current;
    private long version;

    /** Whether a watcher wants a map after every step. */
    public boolean watched() {
        return watchers.get() > 0;
    }

    /** Counts a watcher until the watch is closed. */
    public Watch watch() {
        watchers.incrementAndGet();
        return new Watch();
    }

    /**
     * Engine thread: describes the allocator's blocks and the running sequences (the only ones holding KV) into a
     * free buffer and publishes it. {@code requestSlots}: the request length external fragmentation is judged
     * against; {@code steps}: engine steps so far.
     */
    public <T extends Owner> void publish(KvAllocator allocator, List<Sequence<T>> running, int requestSlots, long steps) {
        KvBlockMap m = freeBuffer();
        KvCacheUsage usage = KvCacheUsage.of(allocator.usage(requestSlots));
        m.reset(usage.layout(), allocator.numBlocks(), allocator.blockSize());
        placements.clear();
        for (int i = 0; i < running.size(); i++) {
            Sequence<T> s = running.get(i);
            if (s.kv() != null) {
                placements.add(s.kv());
                m.addSequence(s.owner().requestId(), s.owner().sampleIndex(), s.kv().length());
            }
        }
        writer.map = m;
        allocator.describe(writer, placements, requestSlots);
        m.usage = usage;
        m.steps = steps;
        m.version = ++version;
        m.timeMillis = System.currentTimeMillis();
        published = m;
        current = true;
    }

    /** Engine thread: a step or command is about to change the state the published map shows. */
    void changing() {
        current = false;
    }

    /** The published map held for reading when it still shows the engine's state; else null. */
    KvBlockMap acquireCurrent() {
        return current ? acquire() : null;
    }

    /** A buffer neither published nor held by a reader (readers only take the published one, see {@link #acquire}). */
    private KvBlockMap freeBuffer() {
        KvBlockMap current = published;
        for (int i = 0; i < buffers.size(); i++) {
            KvBlockMap b = buffers.get(i);
            if (b != current && b.readers.get() == 0) {
                return b;
            }
        }
        KvBlockMap b = new KvBlockMap();
        buffers.add(b);
        return b;
    }

    /**
     * The latest map, held for reading until {@link KvBlockMap#release}; null before the first publication. A
     * hold counts only if the map is still the published one after it was counted: the engine picks buffers that
     * are not published and not held, so it never writes a map a reader holds.
     */
    public KvBlockMap acquire() {
        while (true) {
            KvBlockMap m = published;
            if (m == null) {
                return null;
            }
            m.readers.incrementAndGet();
            if (published == m) {
                return m;
            }
            m.release();
        }
    }

    /** A watcher; closing it (once or more) stops counting it. */
    public final class Watch implements AutoCloseable {
        private boolean closed;

        private Watch() {
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                watchers.decrementAndGet();
            }
        }
    }

    /** The allocator's description, into the map being written. */
    private static final class Writer implements BlockMapWriter {
        KvBlockMap map;

        @Override
        public void block(int id, int refCount, int tokenSlots, int reservedSlots, int flags, int evictionRank) {
            map.refCount[id] = refCount;
            map.tokenSlots[id] = tokenSlots;
            map.reservedSlots[id] = reservedSlots;
            map.flags[id] = flags;
            map.evictionRank[id] = evictionRank;
        }

        @Override
        public void owner(int id, int sequence, int first, int count) {
            map.addOwner(id, sequence, first, count);
        }

        @Override
        public void reservation(int sequence, int baseSlot, int reservedSlots, int length) {
            map.addReservation(sequence, baseSlot, reservedSlots, length);
        }

        @Override
        public void hole(int startSlot, int slots, boolean external) {
            map.addHole(startSlot, slots, external);
        }
    }
}
