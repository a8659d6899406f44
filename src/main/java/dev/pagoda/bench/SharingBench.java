package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.SharingResult.BlockUsage;
import dev.pagoda.bench.SharingResult.Capacity;
import dev.pagoda.bench.SyntheticWorkload.Request;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvShape;
import dev.pagoda.kv.PrefixCacheStats;
import dev.pagoda.scheduler.Scheduler;
import dev.pagoda.scheduler.Sequence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Measures what block sharing saves (paged allocator, no model): parallel sampling, beam search or prefix
 * caching, against the same requests without sharing.
 *
 * <p>The replay is {@link MemoryBench}'s, through the engine's scheduler ({@link ModelFreeReplay}): all requests
 * arrive at once and are admitted first-come first-served above the watermark, whole, at most {@code maxNumSeqs}
 * sequences running (a request's first sequence holds the seats of the samples or beams it will fork into); each
 * step every running sequence grows by one token; when a sequence cannot grow, the most recently admitted request
 * is preempted with all its sequences, which recompute their tokens later (with sharing, their common prefix
 * once; without, each a private copy). With sharing, a request's samples fork after its prompt's prefill and its
 * beams fork and finish through the scheduler as in the engine; without, each sample is its own sequence from the
 * start and a beam picked twice is copied
 * ({@link Scheduler#copy}: its K/V computed again into blocks of its own, in the step its siblings decode).
 * Prefix caching is the scheduler's: full blocks are cached after the step that computed them, so requests
 * admitted in the same step do not share a prefix.
 *
 * <p>Equal work, as the paper measures it: the run with sharing, in the KV budget, counts at every step the
 * blocks in use and the blocks the same live sequences would hold without sharing, each a private copy of all
 * its tokens: the sum over sequences of ceil(length / B), which is what a paged allocator without sharing holds
 * for them. A second replay runs without sharing alone in the budget (there the two counts must agree, which is
 * checked), to compare the requests each fits. Every run checks that each block is back in the pool at its end.
 */
final class SharingBench {
    /** Separates the draws of extra sample lengths from the request lengths drawn with the same seed. */
    private static final long SAMPLE_SALT = 0x5EED_5A3B_1E5L;
    private static final long BEAM_SALT = 0x0BEA_3D0CL;

    private SharingBench() {
    }

    static SharingResult run(BlockSharing sharing, int maxNumSeqs, List<Request> requests, MemoryBench.Config config) {
        if (maxNumSeqs < 1) {
            throw new PagodaException("--max-num-seqs must be >= 1, got " + maxNumSeqs);
        }
        List<Group> groups = groups(sharing, requests, config);
        int numBlocks = config.kvSlots() / config.blockSize();
        boolean caching = sharing instanceof BlockSharing.PrefixCaching;
        Replay with;
        try (Placement p = new Placement(true, caching, numBlocks, config.blockSize())) {
            with = new Replay(groups, p, sharing, maxNumSeqs).run();
        }
        Replay without;
        try (Placement p = new Placement(false, false, numBlocks, config.blockSize())) {
            without = new Replay(groups, p, sharing, maxNumSeqs).run();
        }
        return new SharingResult(sharing, maxNumSeqs, with.privateUsage(), with.usage(), without.capacity(),
                with.capacity(), with.cacheStats);
    }

    /** One group per request: its prompt, the output length of each of its first sequences, its token ids. */
    private static List<Group> groups(BlockSharing sharing, List<Request> requests, MemoryBench.Config config) {
        List<int[]> ids = config.workload() instanceof SharedPrefixWorkload w
                ? w.tokenIds(requests, config.seed(), config.maxModelLen()) : null;
        if (sharing instanceof BlockSharing.PrefixCaching && ids == null) {
            throw new PagodaException("prefix caching is measured on a prefix:SHARED:UNIQUE:OUT workload, not "
                    + config.workload().label());
        }
        SplittableRandom sampleLengths = new SplittableRandom(config.seed() ^ SAMPLE_SALT);
        List<Group> groups = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            Request r = requests.get(i);
            int[] outputs = new int[sharing instanceof BlockSharing.ParallelSampling p ? p.n() : 1];
            outputs[0] = Math.min(r.outputTokens(), config.maxTokens());
            for (int s = 1; s < outputs.length; s++) {
                outputs[s] = Math.min(config.workload().drawOutputTokens(sampleLengths, r.promptTokens(),
                        config.maxModelLen()), config.maxTokens());
            }
            int maxLength = Math.min(r.promptTokens() + config.maxTokens(), config.maxModelLen());
            int[] prompt = ids == null ? new int[r.promptTokens()] : Arrays.copyOf(ids.get(i), r.promptTokens());
            groups.add(new Group(i, outputs, maxLength, prompt,
                    (config.seed() ^ BEAM_SALT) * 31 + i));
        }
        return groups;
    }

    /** One sequence of a request (a sample or a beam): its request and the output length it stops at. */
    private record Lane(Group group, int output) {
    }

    /** A request: its lengths and prompt, and, during a replay, its sequences (beams: best first). */
    private static final class Group {
        final int[] outputs;
        final int maxLength;
        final int[] tokens;
        final long beamSeed;
        final int rank;
        List<Sequence<Lane>> lanes;
        /** Whether the request runs as its final sequences (samples forked, or never forking). */
        boolean forked;
        SplittableRandom beamDraws;
        int seenAtStep;

        Group(int rank, int[] outputs, int maxLength, int[] tokens, long beamSeed) {
            this.rank = rank;
            this.outputs = outputs;
            this.maxLength = maxLength;
            this.tokens = tokens;
            this.beamSeed = beamSeed;
        }
    }

    /**
     * The KV cache of a replay: with sharing (samples and beams forked, or prefix caching on) or without (every
     * sequence a private copy). The kv package makes a prefix-caching allocator only over real memory, so that
     * one gets the smallest shape: one f16 element of K and V per token, 4 bytes per slot.
     */
    private static final class Placement implements AutoCloseable {
        final KvAllocator allocator;
        final boolean forks;
        private final KvMemory memory;
        private final int blockSize;

        Placement(boolean forks, boolean caching, int numBlocks, int blockSize) {
            this.forks = forks;
            this.blockSize = blockSize;
            this.memory = caching ? KvMemory.ofBlocks(new KvShape(1, 1, 1, blockSize, KvDtype.F16), numBlocks)
                    : null;
            this.allocator = caching ? KvAllocator.create(KvLayout.PAGED, memory, true)
                    : KvAllocator.accounting(KvLayout.PAGED, numBlocks, blockSize);
        }

        int blocksFor(int tokens) {
            return (tokens + blockSize - 1) / blockSize;
        }

        @Override
        public void close() {
            if (memory != null) {
                memory.close();
            }
        }
    }

    /** One replay in the KV budget, through the engine's scheduler ({@link ModelFreeReplay}). */
    private static final class Replay {
        final Placement kv;
        final BlockSharing sharing;
        final ModelFreeReplay<Lane> replay;
        final Scheduler<Lane> scheduler;
        int steps;
        double runningSum;
        double saturatedRunningSum;
        int saturatedSteps;
        int maxRunning;
        long blockSum;
        long tokenSum;
        int peakBlocks;
        long privateBlockSum;
        long privateTokenSum;
        int peakPrivateBlocks;
        PrefixCacheStats cacheStats;

        Replay(List<Group> groups, Placement kv, BlockSharing sharing, int maxNumSeqs) {
            this.kv = kv;
            this.sharing = sharing;
            this.replay = new ModelFreeReplay<>(kv.allocator, maxNumSeqs, Lane::output);
            this.scheduler = replay.scheduler();
            for (Group g : groups) {
                g.seenAtStep = 0;
                start(g);
            }
        }

        /** Queues the request's first sequences. */
        private void start(Group g) {
            g.lanes = new ArrayList<>();
            g.beamDraws = new SplittableRandom(g.beamSeed);
            // Without forks each sample is its own sequence from the start, prefill included, as in the engine.
            int initial = kv.forks ? 1 : g.outputs.length;
            g.forked = initial > 1 || sharing.sequences() == 1;
            for (int i = 0; i < initial; i++) {
                Sequence<Lane> seq = replay.add(g.rank, new Lane(g, g.outputs[i]), g.tokens, g.maxLength);
                // A request's first sequence holds the seats of the samples or beams it forks into.
                seq.setSeats(g.forked ? 1 : sharing.sequences());
                seq.setSharesOnRecompute(kv.forks);
                g.lanes.add(seq);
            }
        }

        Replay run() {
            replay.run(this::record, this::sampled);
            cacheStats = kv.allocator.prefixCacheStats();
            return this;
        }

        private void record(Scheduler<Lane> scheduler) {
            steps++;
            int used = kv.allocator.usedBlocks();
            int privateBlocks = 0;
            long privateTokens = 0;
            int requests = 0;
            for (Sequence<Lane> s : scheduler.running()) {
                Group g = s.owner().group();
                // Before its samples fork, a request's prompt stands for each of them.
                int copies = g.forked ? 1 : g.outputs.length;
                // A recomputed sequence waiting to fork from its group's leader holds nothing yet.
                int length = s.kv() == null ? 0 : s.kv().length();
                privateBlocks += copies * kv.blocksFor(length);
                privateTokens += (long) copies * length;
                if (g.seenAtStep != steps) {
                    g.seenAtStep = steps;
                    requests++;
                }
            }
            if (!kv.forks && used != privateBlocks) {
                throw new IllegalStateException("without sharing " + used + " blocks are in use, but the sequences"
                        + " hold " + privateBlocks);
            }
            blockSum += used;
            peakBlocks = Math.max(peakBlocks, used);
            tokenSum += kv.allocator.usage(1).tokenSlots();
            privateBlockSum += privateBlocks;
            peakPrivateBlocks = Math.max(peakPrivateBlocks, privateBlocks);
            privateTokenSum += privateTokens;
            runningSum += requests;
            maxRunning = Math.max(maxRunning, requests);
            if (scheduler.numWaiting() > 0) {
                saturatedRunningSum += requests;
                saturatedSteps++;
            }
        }

        /** A sequence's logits came out: its next token, after the samples fork or the beams are chosen. */
        private void sampled(Sequence<Lane> s) {
            Group g = s.owner().group();
            if (sharing instanceof BlockSharing.BeamSearch beam) {
                beamStep(g, beam);
            } else if (!g.forked) {
                // Parallel sampling: the prompt was computed once; the samples share its blocks (copy-on-write).
                for (int i = 1; i < g.outputs.length; i++) {
                    g.lanes.add(scheduler.fork(s, new Lane(g, g.outputs[i])));
                }
                s.setSeats(1);
                g.forked = true;
                List.copyOf(g.lanes).forEach(replay::sampleToken);
            } else {
                replay.sampleToken(s);
            }
        }

        /**
         * Once every beam of the request has its logits (a copy computes its tokens while its siblings decode),
         * replaces them by {@code width} new ones (see {@link BlockSharing.BeamSearch}), best first, each then
         * getting its token. A beam picked k times is forked k - 1 times (without sharing: copied), a beam picked
         * by nobody is finished.
         */
        private void beamStep(Group g, BlockSharing.BeamSearch beam) {
            for (Sequence<Lane> lane : g.lanes) {
                if (lane.computed() < lane.length()) {
                    return;
                }
            }
            List<Sequence<Lane>> current = g.lanes;
            if (current.getFirst().outputLength() + 1 < g.outputs[0]) {
                int[] picks = new int[current.size()];
                for (int i = 0; i < beam.width(); i++) {
                    picks[drawParent(g.beamDraws, current.size(), beam.parentDecay())]++;
                }
                List<Sequence<Lane>> ranked = new ArrayList<>(beam.width());
                for (int r = 0; r < current.size(); r++) {
                    Sequence<Lane> parent = current.get(r);
                    if (picks[r] == 0) {
                        scheduler.finish(parent);
                        continue;
                    }
                    parent.setSeats(1);
                    ranked.add(parent);
                    for (int c = 1; c < picks[r]; c++) {
                        ranked.add(kv.forks ? scheduler.fork(parent, parent.owner())
                                : scheduler.copy(parent, parent.owner()));
                    }
                }
                g.lanes = ranked;
                g.forked = true;
            }
            List.copyOf(g.lanes).forEach(replay::sampleToken);
        }

        /** Rank r of {@code n} with probability proportional to decay^r. */
        private static int drawParent(SplittableRandom rnd, int n, double decay) {
            double total = 0;
            for (int r = 0; r < n; r++) {
                total += StrictMath.pow(decay, r);
            }
            double u = rnd.nextDouble() * total;
            for (int r = 0; r < n - 1; r++) {
                u -= StrictMath.pow(decay, r);
                if (u < 0) {
                    return r;
                }
            }
            return n - 1;
        }

        BlockUsage usage() {
            return new BlockUsage((double) blockSum / steps, peakBlocks, (double) tokenSum / steps);
        }

        /** What the same sequences would hold at the same steps without sharing. */
        BlockUsage privateUsage() {
            return new BlockUsage((double) privateBlockSum / steps, peakPrivateBlocks,
                    (double) privateTokenSum / steps);
        }

        Capacity capacity() {
            double fit = saturatedSteps > 0 ? saturatedRunningSum / saturatedSteps : runningSum / steps;
            return new Capacity(fit, maxRunning, (int) replay.preemptions(), replay.steps());
        }
    }
}
