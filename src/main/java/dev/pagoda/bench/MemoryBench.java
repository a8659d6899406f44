package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.SyntheticWorkload.Request;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvMemoryUsage;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.kv.PagedAllocator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Replays a workload through the paged and the contiguous allocators (no model) and measures how the KV memory
 * is used. All requests arrive at once and are admitted first-come first-served while they fit; each step every
 * running request grows by one token, and finishes at its own length, freeing its memory (so holes of different
 * sizes appear for the contiguous layout). A newly admitted request gets slots for its prompt (or, after
 * preemption, prompt plus what it had generated) and its prefill yields its first output token.
 *
 * <p>Contiguous: each request reserves min(prompt + maxTokens, maxModelLen) slots at admission. Of a reservation,
 * the part the request will still fill is "reserved", the part beyond its real final length (which only this
 * replay knows) is internal fragmentation. Paged: blocks on demand, admission keeps a 1% watermark of free
 * blocks, and when a running request cannot get a block the most recently admitted one is preempted (freed and
 * put back at the head of the queue, to be recomputed).
 *
 * <p>Reported numbers are averages over the steps in which some request was left waiting (memory was the limit);
 * over all steps if none was. External fragmentation is judged against the reservation of the request at the
 * head of the queue.
 */
public final class MemoryBench {
    static final double WATERMARK = 0.01;

    /**
     * @param workload    request lengths
     * @param numRequests how many requests
     * @param seed        seed of the lengths
     * @param kvSlots     KV cache size in token slots (rounded down to whole blocks)
     * @param blockSize   tokens per block
     * @param maxModelLen longest sequence the model takes
     * @param maxTokens   output tokens a request may ask for (the contiguous reservation is prompt + this)
     */
    public record Config(MemoryWorkload workload, int numRequests, long seed, int kvSlots, int blockSize,
                         int maxModelLen, int maxTokens) {
        public Config {
            if (numRequests < 1) {
                throw new PagodaException("number of requests must be >= 1, got " + numRequests);
            }
            if (blockSize < 1 || blockSize > 256) {
                throw new PagodaException("block size must be 1..256, got " + blockSize);
            }
            if (maxTokens < 1) {
                throw new PagodaException("max tokens must be >= 1, got " + maxTokens);
            }
            if (kvSlots < Math.max(blockSize, maxModelLen)) {
                throw new PagodaException("KV budget of " + kvSlots + " slots cannot hold one request of the max model"
                        + " length " + maxModelLen + " (block size " + blockSize + ")");
            }
        }
    }

    /**
     * Time-averaged slot counts of one layout (they add up to {@code totalSlots}, external being part of free
     * memory that cannot be used) and how many requests ran at once.
     */
    public record LayoutResult(KvLayout layout, long totalSlots, double tokenSlots, double internalFragmentation,
                               double reservedSlots, double externalFragmentation, double freeSlots,
                               double requestsFit, int requestsFitMax, int preemptions, int steps,
                               int measuredSteps) {
        /** Slots not holding a token over slots allocated, reserved or stranded by external fragmentation. */
        public double wasteFraction() {
            double waste = internalFragmentation + reservedSlots + externalFragmentation;
            double denominator = tokenSlots + waste;
            return denominator == 0 ? 0 : waste / denominator;
        }

        /** Free slots that a new request could still use. */
        public double usableFreeSlots() {
            return freeSlots - externalFragmentation;
        }
    }

    /** {@code sharing}: the {@link SharingBench} comparison, null when none was asked for. */
    public record Result(Config config, List<Request> requests, LayoutResult paged, LayoutResult contiguous,
                         SharingResult sharing) {
    }

    private MemoryBench() {
    }

    public static Result run(Config config) {
        return run(config, null, 0);
    }

    /**
     * The layout comparison (one sequence per request) and, unless {@code sharing} is null, what sharing saves
     * on the same requests with at most {@code maxNumSeqs} sequences running at once (see {@link SharingBench}).
     */
    public static Result run(Config config, BlockSharing sharing, int maxNumSeqs) {
        List<Request> requests = config.workload().generate(config.numRequests(), config.seed(), config.maxModelLen());
        return new Result(config, requests, simulate(KvLayout.PAGED, requests, config),
                simulate(KvLayout.CONTIGUOUS, requests, config),
                sharing == null ? null : SharingBench.run(sharing, maxNumSeqs, requests, config));
    }

    /** A request's progress; survives preemption. */
    private static final class Progress {
        final int promptTokens;
        final int outputTokens;
        final int reservation;
        int generated;
        KvSequence seq;

        Progress(Request request, Config config) {
            promptTokens = request.promptTokens();
            outputTokens = Math.min(request.outputTokens(), config.maxTokens());
            reservation = Math.min(promptTokens + config.maxTokens(), config.maxModelLen());
        }

        /** K/V slots at the end: the last sampled token is never fed back. */
        int finalLength() {
            return promptTokens + outputTokens - 1;
        }
    }

    static LayoutResult simulate(KvLayout layout, List<Request> requests, Config config) {
        int numBlocks = config.kvSlots() / config.blockSize();
        KvAllocator allocator = KvAllocator.accounting(layout, numBlocks, config.blockSize());
        int watermarkBlocks = layout == KvLayout.PAGED ? (int) Math.ceil(WATERMARK * numBlocks) : 0;
        ArrayDeque<Progress> waiting = new ArrayDeque<>();
        long reservationSum = 0;
        for (Request r : requests) {
            Progress p = new Progress(r, config);
            waiting.add(p);
            reservationSum += p.reservation;
        }
        int meanReservation = (int) (reservationSum / requests.size());
        List<Progress> running = new ArrayList<>();
        Sums saturated = new Sums();
        Sums all = new Sums();
        int preemptions = 0;
        int steps = 0;
        while (!waiting.isEmpty() || !running.isEmpty()) {
            steps++;
            boolean preempted = false;
            // Decode: each running request needs a slot for the token it sampled last step; oldest first.
            for (int i = 0; i < running.size(); i++) {
                Progress p = running.get(i);
                while (!allocator.canAppend(p.seq, 1)) {
                    Progress victim = running.removeLast();
                    allocator.free(victim.seq);
                    victim.seq = null;
                    waiting.addFirst(victim);
                    preemptions++;
                    preempted = true;
                    if (victim == p) {
                        break;
                    }
                }
                if (p.seq != null) {
                    allocator.append(p.seq, 1);
                    p.generated++;
                }
            }
            // Admission: first come first served, none after a preemption.
            while (!preempted && !waiting.isEmpty()) {
                Progress p = waiting.peekFirst();
                int initial = p.promptTokens + p.generated;
                if (!allocator.canAdmit(initial, p.reservation)
                        || (watermarkBlocks > 0 && !fitsAboveWatermark((PagedAllocator) allocator, initial,
                        watermarkBlocks))) {
                    break;
                }
                waiting.removeFirst();
                p.seq = allocator.admit(initial, p.reservation);
                p.generated++;
                running.add(p);
            }
            if (running.isEmpty()) {
                throw new PagodaException("a request reserving " + waiting.peekFirst().reservation
                        + " slots never fits the KV budget of " + allocator.totalSlots() + " slots");
            }
            long neverUsed = 0;
            for (Progress p : running) {
                if (layout == KvLayout.CONTIGUOUS) {
                    neverUsed += p.reservation - p.finalLength();
                }
            }
            int judgedAgainst = waiting.isEmpty() ? meanReservation : waiting.peekFirst().reservation;
            KvMemoryUsage usage = allocator.usage(judgedAgainst).withNeverUsed(neverUsed);
            all.add(usage, running.size());
            if (!waiting.isEmpty()) {
                saturated.add(usage, running.size());
            }
            // Finish: requests that generated all their tokens leave.
            for (int i = running.size() - 1; i >= 0; i--) {
                Progress p = running.get(i);
                if (p.generated >= p.outputTokens) {
                    allocator.free(p.seq);
                    running.remove(i);
                }
            }
        }
        Sums s = saturated.steps > 0 ? saturated : all;
        return new LayoutResult(layout, allocator.totalSlots(), s.mean(s.tokens), s.mean(s.internal),
                s.mean(s.reserved), s.mean(s.external), s.mean(s.free), s.mean(s.running), s.maxRunning,
                preemptions, steps, s.steps);
    }

    private static boolean fitsAboveWatermark(PagedAllocator allocator, int tokens, int watermarkBlocks) {
        int blocks = (tokens + allocator.blockSize() - 1) / allocator.blockSize();
        return allocator.pool().freeBlocks() - blocks >= watermarkBlocks;
    }

    /** Running sums of the slot kinds over measured steps. */
    private static final class Sums {
        int steps;
        double tokens;
        double internal;
        double reserved;
        double external;
        double free;
        double running;
        int maxRunning;

        void add(KvMemoryUsage u, int runningNow) {
            steps++;
            tokens += u.tokenSlots();
            internal += u.internalFragmentation();
            reserved += u.reservedSlots();
            external += u.externalFragmentation();
            free += u.freeSlots();
            running += runningNow;
            maxRunning = Math.max(maxRunning, runningNow);
        }

        double mean(double sum) {
            return steps == 0 ? 0 : sum / steps;
        }
    }
}
