package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.SyntheticWorkload.Request;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvMemoryUsage;
import dev.pagoda.scheduler.Sequence;
import java.util.List;

/**
 * Replays a workload through the engine's scheduler over the paged and the contiguous
 * allocators, with a model-free step ({@link ModelFreeReplay}), and measures how the KV memory is used. All
 * requests arrive at once and are admitted first-come first-served while they fit; each step every running
 * request grows by one token, and finishes at its own length, freeing its memory (so holes of different sizes
 * appear for the contiguous layout). A newly admitted request gets slots for its prompt (or, after preemption,
 * prompt plus what it had generated) and its prefill yields its first output token.
 *
 * <p>Contiguous: each request reserves min(prompt + maxTokens, maxModelLen) slots at admission. Of a reservation,
 * the part the request will still fill is "reserved", the part beyond its real final length (which only this
 * replay knows) is internal fragmentation. Paged: blocks on demand; the scheduler's policy (watermark of free
 * blocks at admission while something runs, preemption of the most recently admitted request by recomputation)
 * decides the rest.
 *
 * <p>Reported numbers are averages over the steps in which some request was left waiting (memory was the limit);
 * over all steps if none was. External fragmentation is judged against the reservation of the request at the
 * head of the queue.
 */
public final class MemoryBench {
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

    /**
     * {@code sharing}: the {@link SharingBench} comparison, null when none was asked for; {@code window}: the
     * {@link WindowBench} comparison, null when no sliding window was given.
     */
    public record Result(Config config, List<Request> requests, LayoutResult paged, LayoutResult contiguous,
                         SharingResult sharing, WindowResult window) {
    }

    /** A sliding window on every layer of the model shape, and the bytes of one block of that shape. */
    public record Window(int tokens, long bytesPerBlock) {
    }

    private MemoryBench() {
    }

    public static Result run(Config config) {
        return run(config, null, 0, null);
    }

    /** The layout comparison and what {@code sharing} saves (see below), without a sliding window. */
    public static Result run(Config config, BlockSharing sharing, int maxNumSeqs) {
        return run(config, sharing, maxNumSeqs, null);
    }

    /**
     * The layout comparison (one sequence per request); unless {@code sharing} is null, what sharing saves on the
     * same requests with at most {@code maxNumSeqs} sequences running at once (see {@link SharingBench}); unless
     * {@code window} is null, what releasing the blocks out of that sliding window saves (see {@link WindowBench}).
     */
    public static Result run(Config config, BlockSharing sharing, int maxNumSeqs, Window window) {
        List<Request> requests = config.workload().generate(config.numRequests(), config.seed(), config.maxModelLen());
        return new Result(config, requests, simulate(KvLayout.PAGED, requests, config),
                simulate(KvLayout.CONTIGUOUS, requests, config),
                sharing == null ? null : SharingBench.run(sharing, maxNumSeqs, requests, config),
                window == null ? null : WindowBench.run(window.tokens(), window.bytesPerBlock(), requests, config));
    }

    /** A request as the replay sees it: its lengths and the contiguous reservation. */
    record Progress(int promptTokens, int outputTokens, int reservation) {
        Progress(Request request, Config config) {
            this(request.promptTokens(), Math.min(request.outputTokens(), config.maxTokens()),
                    Math.min(request.promptTokens() + config.maxTokens(), config.maxModelLen()));
        }

        /** K/V slots at the end: the last sampled token is never fed back. */
        int finalLength() {
            return promptTokens + outputTokens - 1;
        }
    }

    static LayoutResult simulate(KvLayout layout, List<Request> requests, Config config) {
        int numBlocks = config.kvSlots() / config.blockSize();
        KvAllocator allocator = KvAllocator.accounting(layout, numBlocks, config.blockSize());
        ModelFreeReplay<Progress> replay = new ModelFreeReplay<>(allocator, Integer.MAX_VALUE,
                Progress::outputTokens);
        long reservationSum = 0;
        for (int i = 0; i < requests.size(); i++) {
            Progress p = new Progress(requests.get(i), config);
            replay.add(i, p, new int[p.promptTokens()], p.reservation());
            reservationSum += p.reservation();
        }
        int meanReservation = (int) (reservationSum / requests.size());
        Sums saturated = new Sums();
        Sums all = new Sums();
        replay.run(scheduler -> {
            long neverUsed = 0;
            if (layout == KvLayout.CONTIGUOUS) {
                for (Sequence<Progress> s : scheduler.running()) {
                    neverUsed += s.owner().reservation() - s.owner().finalLength();
                }
            }
            Sequence<Progress> next = scheduler.nextWaiting();
            KvMemoryUsage usage = allocator.usage(next == null ? meanReservation : next.owner().reservation())
                    .withNeverUsed(neverUsed);
            all.add(usage, scheduler.numRunning());
            if (next != null) {
                saturated.add(usage, scheduler.numRunning());
            }
        }, replay::sampleToken);
        Sums s = saturated.steps > 0 ? saturated : all;
        return new LayoutResult(layout, allocator.totalSlots(), s.mean(s.tokens), s.mean(s.internal),
                s.mean(s.reserved), s.mean(s.external), s.mean(s.free), s.mean(s.running), s.maxRunning,
                (int) replay.preemptions(), replay.steps(), s.steps);
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
