package dev.pagoda.engine;

import dev.pagoda.kv.KvMemoryUsage;
import java.util.Locale;

/**
 * The KV cache accounting the engine publishes (what {@code /metrics} reports), so that readers depend on the
 * engine, not on the kv package. Slot kinds and block counts as defined by the allocator's accounting: every
 * slot is token, internal fragmentation, reserved or free; external fragmentation is part of free.
 *
 * @param layout         the KV layout's name, lower case
 * @param usageFraction  slots allocated or reserved over all slots
 * @param wasteFraction  wasted slots over slots allocated, reserved or stranded
 * @param sequenceTokens sum of the live sequences' lengths (exceeds tokenSlots by what sharing and released
 *                       out-of-window blocks save)
 */
public record KvCacheUsage(String layout, double usageFraction, long tokenSlots, long internalFragmentation,
                           long reservedSlots, long freeSlots, long externalFragmentation, double wasteFraction,
                           int blocksFree, int blocksUsed, int blocksShared, long sequenceTokens) {

    static KvCacheUsage of(KvMemoryUsage u) {
        return new KvCacheUsage(u.layout().name().toLowerCase(Locale.ROOT), u.usageFraction(), u.tokenSlots(),
                u.internalFragmentation(), u.reservedSlots(), u.freeSlots(), u.externalFragmentation(),
                u.wasteFraction(), u.blocksFree(), u.blocksUsed(), u.blocksShared(), u.sequenceTokens());
    }
}
