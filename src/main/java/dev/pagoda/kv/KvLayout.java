package dev.pagoda.kv;

import dev.pagoda.PagodaException;
import java.util.Locale;

/** How sequences are placed in the KV cache. */
public enum KvLayout {
    /** PagedAttention: fixed-size blocks taken on demand, anywhere in the region; blocks can be shared. */
    PAGED,
    /** Baseline of prior systems: one contiguous run per request, reserved at admission for its maximum length. */
    CONTIGUOUS;

    public static KvLayout parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "paged" -> PAGED;
            case "contiguous" -> CONTIGUOUS;
            default -> throw new PagodaException("unknown KV layout '" + name + "': expected paged or contiguous");
        };
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
