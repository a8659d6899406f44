package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.SharingResult.BlockUsage;
import dev.pagoda.bench.SharingResult.Capacity;
import dev.pagoda.bench.SyntheticWorkload.Request;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.kv.KvShape;
import dev.pagoda.kv.PagedAllocator;
import dev.pagoda.kv.PrefixCacheStats;
import dev.pagoda.kv.PrefixHit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * Measures what block sharing saves (paged allocator, no model): parallel sampling, beam search or prefix
 * caching, against the same requests without sharing.
 *
 * <p>The replay is {@link MemoryBench}'s: all requests arrive at once and are admitted first-come first-served
 * while the prompts of all their sequences fit above a 1% watermark of free blocks (with sharing: one prompt)
 * and at most {@code maxNumSeqs} sequences run (a request that would run alone needs only its blocks); each
 * step every running sequence grows by one token; when a sequence cannot grow, the most recently admitted
 * request is preempted (all its sequences freed; it restarts from its prompt later, with the same output lengths
 * and beam draws). Full blocks are cached after the step that computed them, so requests admitted in the same
 * step do not share a prefix, as in the scheduler.
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
        try (Placement p = new Placement(!caching, caching, numBlocks, config.blockSize())) {
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
            groups.add(new Group(r.promptTokens(), outputs, maxLength, ids == null ? null : ids.get(i),
                    (config.seed() ^ BEAM_SALT) * 31 + i));
        }
        return groups;
    }

    /** One sequence of a request (a sample or a beam) and the output length it stops at. */
    private record Lane(KvSequence seq, int output) {
    }

    /** A request: its sequences (samples or beams, best beam first) and progress. Reset on preemption. */
    private static final class Group {
        final int prompt;
        final int[] outputs;
        final int maxLength;
        final int[] tokens;
        final long beamSeed;
        List<Lane> lanes;
        int generated;
        SplittableRandom beamDraws;

        Group(int prompt, int[] outputs, int maxLength, int[] tokens, long beamSeed) {
            this.prompt = prompt;
            this.outputs = outputs;
            this.maxLength = maxLength;
            this.tokens = tokens;
            this.beamSeed = beamSeed;
        }
    }

    /**
     * The KV cache of a replay: with sharing (prompt forked, beams forked, or prefix caching on) or without
     * (every sequence a private copy). The kv package makes a prefix-caching allocator only over real memory, so
     * that one gets the smallest shape: one f16 element of K and V per token, 4 bytes per slot.
     */
    private static final class Placement implements AutoCloseable {
        final PagedAllocator allocator;
        final boolean forks;
        private final KvMemory memory;
        private final int blockSize;

        Placement(boolean forks, boolean caching, int numBlocks, int blockSize) {
            this.forks = forks;
            this.blockSize = blockSize;
            this.memory = caching ? KvMemory.ofBlocks(new KvShape(1, 1, 1, blockSize, KvDtype.F16), numBlocks)
                    : null;
            this.allocator = (PagedAllocator) (caching ? KvAllocator.create(KvLayout.PAGED, memory, true)
                    : KvAllocator.accounting(KvLayout.PAGED, numBlocks, blockSize));
        }

        int blocksFor(int tokens) {
            return (tokens + blockSize - 1) / blockSize;
        }

        /** Free blocks for the prompts of a group's {@code sequences} sequences. */
        int blocksToStart(Group g, int sequences) {
            if (allocator.prefixCaching()) {
                PrefixHit hit = allocator.lookupPrefix(g.tokens, g.prompt);
                return allocator.blocksToAdmit(hit, g.prompt - hit.cachedTokens());
            }
            return (forks ? 1 : sequences) * blocksFor(g.prompt);
        }

        KvSequence start(Group g, KvSequence first) {
            if (first != null) {
                return forks ? first.fork() : allocator.admit(g.prompt, g.maxLength);
            }
            if (allocator.prefixCaching()) {
                PrefixHit hit = allocator.lookupPrefix(g.tokens, g.prompt);
                return allocator.admitCached(hit, g.prompt - hit.cachedTokens(), g.maxLength);
            }
            return allocator.admit(g.prompt, g.maxLength);
        }

        boolean canBranch(KvSequence parent) {
            return forks || allocator.pool().canAllocate(blocksFor(parent.length()));
        }

        KvSequence branch(KvSequence parent, int maxLength) {
            return forks ? parent.fork() : allocator.admit(parent.length(), maxLength);
        }

        @Override
        public void close() {
            if (memory != null) {
                memory.close();
            }
        }
    }

    /** One replay in the KV budget. */
    private static final class Replay {
        final List<Group> groups;
        final Placement kv;
        final BlockSharing sharing;
        final int watermarkBlocks;
        final int maxNumSeqs;
        int runningSeqs;
        final ArrayDeque<Group> waiting = new ArrayDeque<>();
        final List<Group> running = new ArrayList<>();
        boolean preempted;
        int preemptions;
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
            this.maxNumSeqs = maxNumSeqs;
            this.groups = groups;
            this.kv = kv;
            this.sharing = sharing;
            this.watermarkBlocks = (int) Math.ceil(EngineConfig.WATERMARK * kv.allocator.pool().numBlocks());
        }

        Replay run() {
            for (Group g : groups) {
                reset(g);
                waiting.add(g);
            }
            while (!waiting.isEmpty() || !running.isEmpty()) {
                steps++;
                preempted = false;
                for (int i = 0; i < running.size(); i++) {
                    decode(running.get(i));
                }
                admit();
                if (running.isEmpty()) {
                    throw new PagodaException("a request with a " + waiting.peekFirst().prompt + "-token prompt and "
                            + sharing.label() + " never fits the KV budget of " + kv.allocator.totalSlots()
                            + " slots with " + (kv.forks || kv.allocator.prefixCaching() ? sharing.withLabel()
                            : sharing.withoutLabel()));
                }
                record();
                cacheComputedBlocks();
                finish();
            }
            int lost = kv.allocator.pool().numBlocks() - kv.allocator.pool().freeBlocks();
            if (lost != 0) {
                throw new IllegalStateException(lost + " KV blocks not back in the pool after the run");
            }
            cacheStats = kv.allocator.prefixCacheStats();
            return this;
        }

        private void record() {
            int used = kv.allocator.pool().usedBlocks();
            int privateBlocks = 0;
            long privateTokens = 0;
            for (Group g : running) {
                for (Lane lane : g.lanes) {
                    privateBlocks += kv.blocksFor(lane.seq().length());
                    privateTokens += lane.seq().length();
                }
            }
            if (!kv.forks && !kv.allocator.prefixCaching() && used != privateBlocks) {
                throw new IllegalStateException("without sharing " + used + " blocks are in use, but the sequences"
                        + " hold " + privateBlocks);
            }
            blockSum += used;
            peakBlocks = Math.max(peakBlocks, used);
            tokenSum += kv.allocator.usage(1).tokenSlots();
            privateBlockSum += privateBlocks;
            peakPrivateBlocks = Math.max(peakPrivateBlocks, privateBlocks);
            privateTokenSum += privateTokens;
            runningSum += running.size();
            maxRunning = Math.max(maxRunning, running.size());
            if (!waiting.isEmpty()) {
                saturatedRunningSum += running.size();
                saturatedSteps++;
            }
        }

        private void reset(Group g) {
            g.lanes = new ArrayList<>();
            g.generated = 0;
            g.beamDraws = new SplittableRandom(g.beamSeed);
        }

        /** The prompt's prefill yields the first token of each sample (beam search: of the single sequence). */
        private void admit() {
            while (!preempted && !waiting.isEmpty()) {
                Group g = waiting.peekFirst();
                int lanes = g.outputs.length;
                int need = kv.blocksToStart(g, sharing.sequences());
                if (!kv.allocator.pool().canAllocate(need) || (!running.isEmpty()
                        && (kv.allocator.pool().freeBlocks() - need < watermarkBlocks
                        || runningSeqs + sharing.sequences() > maxNumSeqs))) {
                    break;
                }
                runningSeqs += sharing.sequences();
                waiting.removeFirst();
                for (int s = 0; s < lanes; s++) {
                    g.lanes.add(new Lane(kv.start(g, s == 0 ? null : g.lanes.getFirst().seq()), g.outputs[s]));
                }
                g.generated = 1;
                running.add(g);
            }
        }

        private void decode(Group g) {
            if (sharing instanceof BlockSharing.BeamSearch beam && !beamStep(g, beam)) {
                return;
            }
            for (Lane lane : g.lanes) {
                if (!ensure(g, () -> lane.seq().canAppend(1))) {
                    return;
                }
                lane.seq().append(1);
            }
            g.generated++;
        }

        /**
         * Replaces the group's beams by {@code width} new ones (see {@link BlockSharing.BeamSearch}), before they
         * grow by their new token. False if the group was preempted meanwhile.
         */
        private boolean beamStep(Group g, BlockSharing.BeamSearch beam) {
            List<Lane> current = g.lanes;
            int[] picks = new int[current.size()];
            for (int i = 0; i < beam.width(); i++) {
                picks[drawParent(g.beamDraws, current.size(), beam.parentDecay())]++;
            }
            List<Lane> kept = new ArrayList<>(beam.width());
            for (int r = 0; r < current.size(); r++) {
                if (picks[r] == 0) {
                    free(current.get(r));
                } else {
                    kept.add(current.get(r));
                }
            }
            // Every held lane stays in g.lanes, so a preemption halfway frees them all.
            g.lanes = new ArrayList<>(kept);
            List<Lane> ranked = new ArrayList<>(beam.width());
            int k = 0;
            for (int r = 0; r < current.size(); r++) {
                if (picks[r] == 0) {
                    continue;
                }
                Lane parent = kept.get(k++);
                ranked.add(parent);
                for (int c = 1; c < picks[r]; c++) {
                    if (!ensure(g, () -> kv.canBranch(parent.seq()))) {
                        return false;
                    }
                    Lane child = new Lane(kv.branch(parent.seq(), g.maxLength), parent.output());
                    g.lanes.add(child);
                    ranked.add(child);
                }
            }
            g.lanes = ranked;
            return true;
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

        /** Preempts the newest requests until {@code can} holds; false if {@code g} itself was preempted. */
        private boolean ensure(Group g, BooleanSupplier can) {
            while (!can.getAsBoolean()) {
                Group victim = running.removeLast();
                runningSeqs -= sharing.sequences();
                for (Lane lane : victim.lanes) {
                    free(lane);
                }
                reset(victim);
                waiting.addFirst(victim);
                preemptions++;
                preempted = true;
                if (victim == g) {
                    return false;
                }
            }
            return true;
        }

        private void free(Lane lane) {
            lane.seq().free();
        }

        /** The step wrote the K/V of every running sequence's tokens: caches the blocks it filled. */
        private void cacheComputedBlocks() {
            if (!kv.allocator.prefixCaching()) {
                return;
            }
            for (Group g : running) {
                for (Lane lane : g.lanes) {
                    lane.seq().cacheFullBlocks(g.tokens, lane.seq().length());
                }
            }
        }

        /** Sequences that generated all their tokens leave; a request leaves with its last sequence. */
        private void finish() {
            for (int i = running.size() - 1; i >= 0; i--) {
                Group g = running.get(i);
                List<Lane> left = new ArrayList<>(g.lanes.size());
                for (Lane lane : g.lanes) {
                    if (g.generated >= lane.output()) {
                        free(lane);
                    } else {
                        left.add(lane);
                    }
                }
                g.lanes = left;
                if (left.isEmpty()) {
                    running.remove(i);
                    runningSeqs -= sharing.sequences();
                }
            }
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
            return new Capacity(fit, maxRunning, preemptions, steps);
        }
    }
}
