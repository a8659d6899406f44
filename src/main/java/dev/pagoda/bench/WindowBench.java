package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.bench.MemoryBench.Progress;
import dev.pagoda.bench.SharingResult.BlockUsage;
import dev.pagoda.bench.SharingResult.Capacity;
import dev.pagoda.bench.SyntheticWorkload.Request;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.scheduler.Sequence;
import java.util.List;

/**
 * What releasing the blocks out of a sliding window saves (paged allocator, no model), for a model whose every layer
 * attends only to its last W positions (Mistral 7B v0.1: 4096, Phi-3-mini: 2047): once a sequence is longer than
 * W, its blocks before the window of the next position are released after each step.
 *
 * <p>The replay is {@link MemoryBench}'s (the engine's scheduler with a model-free step, all requests at once, no
 * limit on running sequences). Equal work: the run with release counts at every step the blocks in use while the
 * step computes (before its own releases) and the blocks its live sequences would hold if every block were kept,
 * ceil(length / B) each, which is what the paged allocator holds without a window (this replay shares no block). A
 * second replay keeps every block, alone in the same budget, to compare the requests each fits.
 */
final class WindowBench {
    private WindowBench() {
    }

    static WindowResult run(int window, long bytesPerBlock, List<Request> requests, MemoryBench.Config config) {
        if (window < 1) {
            throw new PagodaException("--window must be >= 1, got " + window);
        }
        Replay released = new Replay(window, requests, config);
        Replay kept = new Replay(0, requests, config);
        return new WindowResult(window, bytesPerBlock, released.keptUsage(), released.usage(), kept.capacity(),
                released.capacity());
    }

    /** A request in the replay, and what its sequence had released when last seen. */
    private static final class Live {
        final Progress progress;
        KvSequence kv;
        int releasedBlocks;

        Live(Progress progress) {
            this.progress = progress;
        }
    }

    /** One replay in the KV budget, releasing out of {@code window} (0: keeping every block). */
    private static final class Replay {
        final int blockSize;
        int steps;
        int saturatedSteps;
        double runningSum;
        double saturatedRunningSum;
        int maxRunning;
        long blockSum;
        int peakBlocks;
        long tokenSum;
        long keptBlockSum;
        int peakKeptBlocks;
        long keptTokenSum;
        final int preemptions;

        Replay(int window, List<Request> requests, MemoryBench.Config config) {
            blockSize = config.blockSize();
            KvAllocator allocator = KvAllocator.accounting(KvLayout.PAGED, config.kvSlots() / blockSize, blockSize, window);
            ModelFreeReplay<Live> replay = new ModelFreeReplay<>(allocator, Integer.MAX_VALUE,
                    l -> l.progress.outputTokens());
            for (int i = 0; i < requests.size(); i++) {
                Progress p = new Progress(requests.get(i), config);
                replay.add(i, new Live(p), new int[p.promptTokens()], p.reservation());
            }
            replay.run(scheduler -> {
                // The blocks this step computed with: those in use now, plus those its sequences released after it.
                int releasedNow = 0;
                int keptBlocks = 0;
                long length = 0;
                for (Sequence<Live> s : scheduler.running()) {
                    Live l = s.owner();
                    if (l.kv != s.kv()) {
                        l.kv = s.kv();
                        l.releasedBlocks = 0;
                    }
                    releasedNow += l.kv.releasedBlocks() - l.releasedBlocks;
                    l.releasedBlocks = l.kv.releasedBlocks();
                    keptBlocks += (l.kv.length() + blockSize - 1) / blockSize;
                    length += l.kv.length();
                }
                // Released blocks are full and were held by one sequence each (this replay shares none).
                record(scheduler.running().size(), scheduler.nextWaiting() != null,
                        allocator.usedBlocks() + releasedNow,
                        allocator.usage(1).tokenSlots() + (long) releasedNow * blockSize, keptBlocks, length);
            }, replay::sampleToken);
            preemptions = (int) replay.preemptions();
        }

        private void record(int running, boolean saturated, int used, long tokens, int keptBlocks, long keptTokens) {
            steps++;
            blockSum += used;
            peakBlocks = Math.max(peakBlocks, used);
            tokenSum += tokens;
            keptBlockSum += keptBlocks;
            peakKeptBlocks = Math.max(peakKeptBlocks, keptBlocks);
            keptTokenSum += keptTokens;
            runningSum += running;
            maxRunning = Math.max(maxRunning, running);
            if (saturated) {
                saturatedSteps++;
                saturatedRunningSum += running;
            }
        }

        BlockUsage usage() {
            return new BlockUsage((double) blockSum / steps, peakBlocks, (double) tokenSum / steps);
        }

        /** What the same sequences would hold at the same steps with every block kept. */
        BlockUsage keptUsage() {
            return new BlockUsage((double) keptBlockSum / steps, peakKeptBlocks, (double) keptTokenSum / steps);
        }

        Capacity capacity() {
            double fit = saturatedSteps > 0 ? saturatedRunningSum / saturatedSteps : runningSum / steps;
            return new Capacity(fit, maxRunning, preemptions, steps);
        }
    }
}
