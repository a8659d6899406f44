package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.LLMEngine;
import dev.pagoda.engine.RequestHandle;
import dev.pagoda.engine.RequestMetrics;
import dev.pagoda.kernel.BandwidthProbe;
import dev.pagoda.kernel.ComputeProbe;
import dev.pagoda.kernel.WeightMatrix;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.model.LayerWeights;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelWeights;
import dev.pagoda.model.Transformer;
import dev.pagoda.sampling.SamplingParams;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Single-request prefill and decode speed, and optionally the aggregate decode speed of a batch of sequences,
 * against the two limits of the machine measured in the same run: the memory-bandwidth roofline
 * (bandwidth / bytes of weights streamed per decoded token) bounds a single stream; the FMA peak
 * ({@link ComputeProbe}) bounds prefill and batched decode (2 flops per weight element per token; attention
 * flops are left out, so the fraction slightly understates the work at long contexts).
 */
public final class DecodeBench {
    private DecodeBench() {
    }

    /**
     * @param batch           sequences decoded together for the batched figure (0: not measured)
     * @param batchTokPerS    aggregate decode tok/s of {@code batch} sequences over the steps in which all of them decode
     *                        (NaN: there was no such step)
     */
    public record Result(String model, int threads, int promptTokens, int decodeTokens, long weightBytesPerToken,
                         long flopsPerToken, double prefillTokPerS, double decodeTokPerS, int batch, double batchTokPerS,
                         double bandwidthGBps, double peakGflops) {
        public double rooflineTokPerS() {
            return bandwidthGBps * 1e9 / weightBytesPerToken;
        }

        public double rooflineRatio() {
            return decodeTokPerS / rooflineTokPerS();
        }

        /** Fraction of the FMA peak that {@code tokPerS} tokens per second compute. */
        public double peakRatio(double tokPerS) {
            return tokPerS * flopsPerToken / (peakGflops * 1e9);
        }

        public String toTable() {
            String batched = batch == 0 ? "" : Double.isNaN(batchTokPerS)
                    ? String.format(Locale.ROOT, "%n%-27sno step decoded all %d together: the first finished before the last"
                            + " one's prefill ended (raise --tokens)", "decode, " + batch + " sequences", batch)
                    : String.format(Locale.ROOT, "%n%-27s%.1f tok/s (%.2f of FMA peak)",
                    "decode, " + batch + " sequences", batchTokPerS, peakRatio(batchTokPerS));
            return String.format(Locale.ROOT, """
                    model                      %s
                    threads                    %d
                    prompt / decoded tokens    %d / %d
                    weight bytes per token     %,d (%.1f MiB)
                    flops per token            %,d (matmuls)
                    memory bandwidth (probe)   %.1f GB/s
                    FMA peak (probe)           %.1f GFLOP/s
                    prefill                    %.1f tok/s (%.2f of FMA peak)
                    decode                     %.1f tok/s
                    roofline decode            %.1f tok/s
                    decode / roofline          %.2f""",
                    model, threads, promptTokens, decodeTokens, weightBytesPerToken, weightBytesPerToken / 1048576.0,
                    flopsPerToken, bandwidthGBps, peakGflops, prefillTokPerS, peakRatio(prefillTokPerS), decodeTokPerS,
                    rooflineTokPerS(), rooflineRatio()) + batched;
        }

        public String toJson() {
            return String.format(Locale.ROOT,
                    "{\"model\":\"%s\",\"threads\":%d,\"prompt_tokens\":%d,\"decode_tokens\":%d,\"weight_bytes_per_token\":%d,"
                            + "\"flops_per_token\":%d,\"prefill_tok_s\":%.2f,\"prefill_peak_ratio\":%.3f,\"decode_tok_s\":%.2f,"
                            + "\"bandwidth_gb_s\":%.2f,\"peak_gflops\":%.2f,\"roofline_tok_s\":%.2f,\"roofline_ratio\":%.3f,"
                            + "\"batch\":%d,\"batch_decode_tok_s\":%s,\"batch_peak_ratio\":%s}",
                    model.replace("\"", "'"), threads, promptTokens, decodeTokens, weightBytesPerToken, flopsPerToken,
                    prefillTokPerS, peakRatio(prefillTokPerS), decodeTokPerS, bandwidthGBps, peakGflops, rooflineTokPerS(),
                    rooflineRatio(), batch, jsonNumber(batchTokPerS, "%.2f"), jsonNumber(peakRatio(batchTokPerS), "%.3f"));
        }

        /** NaN (no such figure) as JSON null. */
        private static String jsonNumber(double v, String format) {
            return Double.isNaN(v) ? "null" : String.format(Locale.ROOT, format, v);
        }
    }

    /** Single-stream figures only. */
    public static Result run(Model model, int promptTokens, int decodeTokens, int repeat) {
        return run(model, promptTokens, decodeTokens, repeat, 0);
    }

    public static Result run(Model model, int promptTokens, int decodeTokens, int repeat, int batch) {
        int ctx = model.config().contextLength();
        if (promptTokens < 1 || decodeTokens < 2 || promptTokens + decodeTokens > ctx || repeat < 1 || batch < 0) {
            throw new PagodaException("need prompt tokens >= 1, decode tokens >= 2, their sum <= the context length " + ctx
                    + ", repeat >= 1 and batch >= 0 (got " + promptTokens + ", " + decodeTokens + ", " + repeat + ", " + batch + ")");
        }
        int[] prompt = randomPrompt(model, promptTokens, 42);
        int seqs = Math.max(1, batch);
        // A batch's prompts prefill in a few steps (up to 2048 tokens each): with a budget of one prompt, the decodes of
        // the first sequences take it and the last prefill ends after the first sequence finished.
        int budget = Math.max(Math.min(promptTokens, 512), batch == 0 ? 1 : Math.min(seqs * (promptTokens + 1), 2048));
        EngineConfig config = EngineConfig.builder().maxNumSeqs(seqs)
                .maxNumBatchedTokens(budget)
                .maxModelLen(promptTokens + decodeTokens).enablePrefixCaching(false).build();
        double bestPrefill = 0, bestDecode = 0, bestBatch = batch > 0 ? Double.NaN : 0;
        try (LLMEngine engine = new LLMEngine(model, config)) {
            // Only results are read: the engine queues no stream increment per token.
            SamplingParams params = SamplingParams.greedy(decodeTokens).withIgnoreEos(true).finalOnly();
            warmUp(engine, model, prompt, params, batch);
            for (int i = 0; i < repeat; i++) {
                RequestMetrics m = engine.addRequest("run-" + i, prompt, params).result().join().metrics();
                bestPrefill = Math.max(bestPrefill, m.prefillTokensPerSecond());
                bestDecode = Math.max(bestDecode, m.decodeTokensPerSecond());
            }
            for (int i = 0; batch > 0 && i < repeat; i++) {
                double rate = batchDecode(engine, model, batch, promptTokens, params, i);
                bestBatch = Double.isNaN(bestBatch) || rate > bestBatch ? rate : bestBatch;
            }
        }
        double bw = BandwidthProbe.measureGBps();
        double peak = ComputeProbe.measureGflops();
        return new Result(model.name(), WorkerPool.shared().threads(), promptTokens, decodeTokens,
                Transformer.streamedBytes(model.weights()), flopsPerToken(model.weights()), bestPrefill, bestDecode,
                batch, bestBatch, bw, peak);
    }

    /**
     * Runs the measured shapes until the JIT has settled: a run of the full length (and of the batch, when
     * measured) during which the compilers spent under {@link #SETTLED_COMPILE_MS} ms, at least
     * {@link #MIN_WARMUP_RUNS} runs, at most {@link #MAX_WARMUP_NANOS} in all. A few warm-up tokens leave the
     * kernels' C2 compiles (seconds on a loaded machine) inside the timed runs.
     */
    private static void warmUp(LLMEngine engine, Model model, int[] prompt, SamplingParams params, int batch) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        for (int run = 0; ; run++) {
            long compiled = timed ? jit.getTotalCompilationTime() : 0;
            engine.addRequest("warmup-" + run, prompt, params).result().join();
            if (batch > 0) {
                batchDecode(engine, model, batch, prompt.length, params, -1 - run);
            }
            boolean settled = timed && jit.getTotalCompilationTime() - compiled < SETTLED_COMPILE_MS;
            if (run + 1 >= MIN_WARMUP_RUNS && (settled || System.nanoTime() - start > MAX_WARMUP_NANOS)) {
                return;
            }
        }
    }

    static final int MIN_WARMUP_RUNS = 2;
    static final long SETTLED_COMPILE_MS = 5;
    static final long MAX_WARMUP_NANOS = 30_000_000_000L;

    /**
     * Aggregate decode rate of {@code batch} sequences submitted together (distinct random prompts), over the
     * steps in which all of them decode: from the last first token to the first finish. Every sequence gets
     * the same number of tokens; NaN when the first finished before the last was prefilled (too few tokens
     * for the prefills of the batch).
     */
    private static double batchDecode(LLMEngine engine, Model model, int batch, int promptTokens, SamplingParams params, int run) {
        List<String> ids = new ArrayList<>();
        List<int[]> prompts = new ArrayList<>();
        for (int s = 0; s < batch; s++) {
            ids.add("batch-" + run + "-" + s);
            prompts.add(randomPrompt(model, promptTokens, 1000L * run + s));
        }
        List<RequestHandle> handles = engine.addRequests(ids, prompts, params);
        long lastFirst = 0, firstFinish = Long.MAX_VALUE;
        RequestMetrics[] metrics = new RequestMetrics[batch];
        for (int s = 0; s < batch; s++) {
            metrics[s] = handles.get(s).result().join().metrics();
            lastFirst = Math.max(lastFirst, metrics[s].firstTokenNanos());
            firstFinish = Math.min(firstFinish, metrics[s].finishedNanos());
        }
        if (firstFinish <= lastFirst) {
            return Double.NaN;
        }
        // Tokens each sequence produced inside the window, at its own (steady) rate.
        double tokens = 0;
        for (RequestMetrics m : metrics) {
            long span = m.finishedNanos() - m.firstTokenNanos();
            tokens += (m.outputTokens() - 1) * (double) (firstFinish - lastFirst) / span;
        }
        return tokens * 1e9 / (firstFinish - lastFirst);
    }

    private static int[] randomPrompt(Model model, int n, long seed) {
        int[] prompt = new int[n];
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            prompt[i] = rnd.nextInt(model.tokenizer().vocabSize());
        }
        return prompt;
    }

    /** Flops of the matmuls for one token: 2 per weight element (layers and output head). */
    static long flopsPerToken(ModelWeights w) {
        long elements = (long) w.output().rows() * w.output().cols();
        for (LayerWeights l : w.layers()) {
            for (WeightMatrix m : new WeightMatrix[] {l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.down(), l.up()}) {
                elements += (long) m.rows() * m.cols();
            }
        }
        return 2 * elements;
    }
}
