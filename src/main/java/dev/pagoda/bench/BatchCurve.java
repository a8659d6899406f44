package dev.pagoda.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pagoda.PagodaException;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.EngineStats;
import dev.pagoda.engine.LLMEngine;
import dev.pagoda.engine.RequestHandle;
import dev.pagoda.kernel.BandwidthProbe;
import dev.pagoda.kernel.ComputeProbe;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.model.Model;
import dev.pagoda.model.Transformer;
import dev.pagoda.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntConsumer;

/**
 * Decode tok/s against batch size, the number that decides whether paging pays on a machine: paging lets more
 * requests run at once in the same KV memory, which raises throughput only as far as one decode step of B
 * sequences costs less than B steps of one. Each point times pure decode steps of exactly B sequences through a
 * real engine (scheduler, model runner, sampler) at a fixed short context. Beside it, the roofline measured in the
 * same run: B x bandwidth / weight bytes per token while streaming the weights bounds a step, the FMA peak / flops
 * per token once computing does (attention left out: it is small at this context).
 */
public final class BatchCurve {
    /** Tokens of context every sequence shares (whole cached blocks); each point's sequences decode after them. */
    private static final int CONTEXT = 32;
    /** Decode tokens timed per point, in at least {@link #MIN_STEPS} steps: many steps at batch 1, few long ones at 64. */
    private static final int TOKENS_PER_POINT = 16, MIN_STEPS = 3;

    private BatchCurve() {
    }

    /** Pure decode steps of {@code batch} sequences: {@code tokens} = batch x steps, in {@code nanos} of engine step time. */
    public record Point(int batch, long steps, long tokens, long nanos) {
        public double tokensPerSecond() {
            return nanos == 0 ? 0 : tokens * 1e9 / nanos;
        }

        public double stepMillis() {
            return steps == 0 ? 0 : nanos / 1e6 / steps;
        }
    }

    /** The curve and the machine's two limits, measured in the same run. */
    public record Result(int contextTokens, List<Point> points, long weightBytesPerToken, long flopsPerToken, double bandwidthGBps,
                         double peakGflops) {
        /** The bandwidth roofline of a step of {@code batch} sequences, capped by the FMA peak. */
        public double rooflineTokensPerSecond(int batch) {
            return Math.min(batch * bandwidthGBps * 1e9 / weightBytesPerToken, peakGflops * 1e9 / flopsPerToken);
        }

        /**
         * The batch from which computing, not streaming the weights, bounds a step (the roofline's ridge). Running
         * more requests at once raises the bound only up to it: paged over contiguous can reach at most
         * min(paged batch, ridge) / min(contiguous batch, ridge).
         */
        public double ridgeBatch() {
            return peakGflops * weightBytesPerToken / (bandwidthGBps * flopsPerToken);
        }

        /**
         * Decode tok/s at a mean running batch of {@code batch}, interpolated linearly between the measured points
         * (the first point's below it, the last one's above it).
         */
        public double tokensPerSecondAt(double batch) {
            Point lo = points.getFirst();
            for (Point hi : points) {
                if (hi.batch() >= batch) {
                    if (hi.batch() == lo.batch()) {
                        return hi.tokensPerSecond();
                    }
                    double f = (batch - lo.batch()) / (hi.batch() - lo.batch());
                    return lo.tokensPerSecond() + f * (hi.tokensPerSecond() - lo.tokensPerSecond());
                }
                lo = hi;
            }
            return lo.tokensPerSecond();
        }

        /**
         * How far the roofline rises from a mean running batch of {@code fewer} to one of {@code more}: min(more, ridge) /
         * min(fewer, ridge). What paging can buy a server by running more requests at once, whatever memory it frees,
         * unless the smaller batch runs further below its roofline than the larger (then the measured ratio can pass
         * it: {@link #curveGain} says by how much); prefill steps and a run's tail only take from it.
         */
        public double rooflineGain(double more, double fewer) {
            return Math.min(more, ridgeBatch()) / Math.min(fewer, ridgeBatch());
        }

        /** The same gain by this curve: its decode tok/s at {@code more} over that at {@code fewer}. */
        public double curveGain(double more, double fewer) {
            return tokensPerSecondAt(more) / tokensPerSecondAt(fewer);
        }

        /** Both gains, as the line {@code bench throughput} prints under a paged / contiguous ratio. */
        public String bounds(double more, double fewer) {
            return String.format(Locale.ROOT, "at running batches %.1f / %.1f decode can gain at most %.2fx by the roofline"
                    + " (ridge at batch %.1f), %.2fx by the measured curve below", more, fewer, rooflineGain(more, fewer), ridgeBatch(),
                    curveGain(more, fewer));
        }

        /**
         * The batch of the highest decode tok/s: above it a step of more sequences costs more than their tokens
         * bring, so a server capped there (max-num-seqs) serves more, whatever memory paging frees.
         */
        public int peakBatch() {
            Point best = points.getFirst();
            for (Point p : points) {
                if (p.tokensPerSecond() > best.tokensPerSecond()) {
                    best = p;
                }
            }
            return best.batch();
        }

        public String table() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "decode by batch size (pure decode steps at a %d-token context; bandwidth probe %.1f GB/s over %.4g MiB of weights"
                            + " per token, FMA probe %.1f GFLOP/s over %.4g GFLOP per token)%n",
                    contextTokens, bandwidthGBps, weightBytesPerToken / 1048576.0, peakGflops, flopsPerToken / 1e9));
            sb.append(String.format(Locale.ROOT, "roofline ridge at batch %.1f: above it a step is bound by compute, so more running"
                    + " requests (what paging buys) no longer raise the bound%n", ridgeBatch()));
            sb.append(String.format(Locale.ROOT, "decode tok/s peaks at batch %d%n", peakBatch()));
            sb.append(String.format(Locale.ROOT, "%6s %12s %10s %10s %16s %12s%n", "batch", "tok/s", "step ms", "x batch 1",
                    "roofline tok/s", "of roofline"));
            double one = points.getFirst().tokensPerSecond();
            for (Point p : points) {
                double roof = rooflineTokensPerSecond(p.batch());
                sb.append(String.format(Locale.ROOT, "%6d %12.1f %10.1f %10.2f %16.1f %12.2f%n", p.batch(), p.tokensPerSecond(),
                        p.stepMillis(), one == 0 ? 0 : p.tokensPerSecond() / one, roof, p.tokensPerSecond() / roof));
            }
            return sb.toString();
        }

        public void json(ObjectNode node) {
            node.put("context_tokens", contextTokens);
            node.put("weight_bytes_per_token", weightBytesPerToken);
            node.put("flops_per_token", flopsPerToken);
            node.put("bandwidth_gb_s", bandwidthGBps);
            node.put("peak_gflops", peakGflops);
            node.put("ridge_batch", ridgeBatch());
            node.put("peak_batch", peakBatch());
            for (Point p : points) {
                node.withArray("points").addObject().put("batch", p.batch()).put("steps", p.steps()).put("tokens", p.tokens())
                        .put("decode_tokens_per_s", p.tokensPerSecond()).put("step_ms", p.stepMillis())
                        .put("roofline_tokens_per_s", rooflineTokensPerSecond(p.batch()));
            }
        }
    }

    /** 1, 2, 4, ... up to {@code max}, and {@code max} itself. */
    public static List<Integer> sizes(int max) {
        if (max < 1) {
            throw new PagodaException("--batch-curve must be at least 1, got " + max);
        }
        List<Integer> out = new ArrayList<>();
        for (int b = 1; b < max; b *= 2) {
            out.add(b);
        }
        out.add(max);
        return out;
    }

    private static int steps(int batch) {
        return Math.max(MIN_STEPS, TOKENS_PER_POINT / batch);
    }

    /**
     * Measures every size up to {@code maxBatch} with one paged engine of {@code base}'s block size and KV dtype.
     * Every sequence starts from the same prompt, whose whole blocks the prefix cache serves after the first
     * request, so joining the batch costs one token (a step like the decode steps) instead of a prefill.
     * {@code progress} hears of each finished size.
     */
    public static Result measure(Model model, EngineConfig base, int maxBatch, IntConsumer progress) {
        List<Integer> sizes = sizes(maxBatch);
        int blocks = Math.ceilDiv(CONTEXT, base.blockSize());
        int[] prompt = new RandomPrompts(model.tokenizer(), 1).next(blocks * base.blockSize() + 1);
        EngineConfig config = base.toBuilder().kvLayout(KvLayout.PAGED).enablePrefixCaching(true).kvCacheMemory(0)
                .maxNumSeqs(maxBatch).maxNumBatchedTokens(Math.max(base.maxNumBatchedTokens(), maxBatch))
                .maxModelLen(prompt.length + steps(1)).build();
        List<Point> points = new ArrayList<>();
        try (LLMEngine engine = new LLMEngine(model, config)) {
            // Fills the prefix cache and warms the JIT at a small batch; not timed.
            decode(engine, prompt, Math.min(4, maxBatch), MIN_STEPS, "warm");
            for (int b : sizes) {
                EngineStats.Snapshot before = engine.stats();
                decode(engine, prompt, b, steps(b), "b" + b);
                EngineStats.Snapshot after = engine.stats();
                points.add(new Point(b, after.steps() - before.steps(), after.decodeStepTokens() - before.decodeStepTokens(),
                        after.decodeStepNanos() - before.decodeStepNanos()));
                progress.accept(points.size());
            }
        }
        return new Result(prompt.length, points, Transformer.streamedBytes(model.weights()), DecodeBench.flopsPerToken(model.weights()),
                BandwidthProbe.measureGBps(), ComputeProbe.measureGflops());
    }

    /**
     * Runs {@code batch} sequences of {@code steps} tokens each from {@code prompt}, all added between two engine
     * steps (the engine thread drains every queued request before it steps again), so every step holds all of them.
     */
    private static void decode(LLMEngine engine, int[] prompt, int batch, int steps, String id) {
        RequestHandle[] handles = engine.inspect(() -> {
            RequestHandle[] h = new RequestHandle[batch];
            for (int s = 0; s < batch; s++) {
                SamplingParams p = SamplingParams.builder().temperature(1f).seed((long) s).ignoreEos(true).maxTokens(steps).build();
                h[s] = engine.addRequest(id + "." + s, prompt, p);
            }
            return h;
        });
        for (RequestHandle h : handles) {
            h.result().join();
        }
    }
}
