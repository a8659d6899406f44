package dev.pagoda.scheduler;

import dev.pagoda.PagodaException;
import java.util.Locale;

/** What happens to a running sequence evicted when KV blocks run out. */
public enum PreemptionMode {
    /** Free its blocks and recompute its tokens when it is scheduled again. */
    RECOMPUTE,
    /**
     * Copy its K/V into the swap space (all or nothing) and copy them back before any new admission. A request
     * preempted with several running sequences (samples, beams) is recomputed instead.
     */
    SWAP;

    public static PreemptionMode parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "recompute" -> RECOMPUTE;
            case "swap" -> SWAP;
            default -> throw new PagodaException("unknown preemption mode '" + s + "': expected recompute or swap");
        };
    }
}
