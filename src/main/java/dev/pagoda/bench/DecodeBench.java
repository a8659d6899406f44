package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.engine.EngineConfig;
import dev.pagoda.engine.LLMEngine;
import dev.pagoda.engine.RequestMetrics;
import dev.pagoda.kernel.BandwidthProbe;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.model.Model;
import dev.pagoda.model.Transformer;
import dev.pagoda.sampling.SamplingParams;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Single-request speed: prefill tok/s and decode tok/s, against the memory-bandwidth roofline
 * (bandwidth / bytes of weights streamed per decoded token).
 */
public final class DecodeBench {
    private DecodeBench() {
    }

    public record Result(String model, int threads, int promptTokens, int decodeTokens, long weightBytesPerToken,
                         double prefillTokPerS, double decodeTokPerS, double bandwidthGBps) {
        public double rooflineTokPerS() {
            return bandwidthGBps * 1e9 / weightBytesPerToken;
        }

        public double rooflineRatio() {
            return decodeTokPerS / rooflineTokPerS();
        }

        public String toTable() {
            return String.format("""
                    model                      %s
                    threads                    %d
                    prompt / decoded tokens    %d / %d
                    weight bytes per token     %,d (%.1f MiB)
                    prefill                    %.1f tok/s
                    decode                     %.1f tok/s
                    memory bandwidth (probe)   %.1f GB/s
                    roofline decode            %.1f tok/s
                    decode / roofline          %.2f""",
                    model, threads, promptTokens, decodeTokens, weightBytesPerToken, weightBytesPerToken / 1048576.0,
                    prefillTokPerS, decodeTokPerS, bandwidthGBps, rooflineTokPerS(), rooflineRatio());
        }

        public String toJson() {
            return String.format(Locale.ROOT,
                    "{\"model\":\"%s\",\"threads\":%d,\"prompt_tokens\":%d,\"decode_tokens\":%d,\"weight_bytes_per_token\":%d,"
                            + "\"prefill_tok_s\":%.2f,\"decode_tok_s\":%.2f,\"bandwidth_gb_s\":%.2f,\"roofline_tok_s\":%.2f,\"roofline_ratio\":%.3f}",
                    model.replace("\"", "'"), threads, promptTokens, decodeTokens, weightBytesPerToken, prefillTokPerS, decodeTokPerS,
                    bandwidthGBps, rooflineTokPerS(), rooflineRatio());
        }
    }

    public static Result run(Model model, int promptTokens, int decodeTokens, int repeat) {
        int ctx = model.config().contextLength();
        if (promptTokens < 1 || decodeTokens < 2 || promptTokens + decodeTokens > ctx || repeat < 1) {
            throw new PagodaException("need prompt tokens >= 1, decode tokens >= 2, their sum <= the context length " + ctx
                    + " and repeat >= 1 (got " + promptTokens + ", " + decodeTokens + ", " + repeat + ")");
        }
        int[] prompt = new int[promptTokens];
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < promptTokens; i++) {
            prompt[i] = rnd.nextInt(model.tokenizer().vocabSize());
        }
        EngineConfig config = EngineConfig.builder().maxNumSeqs(1).maxNumBatchedTokens(Math.min(promptTokens, 512))
                .maxModelLen(promptTokens + decodeTokens).enablePrefixCaching(false).build();
        double bestPrefill = 0, bestDecode = 0;
        try (LLMEngine engine = new LLMEngine(model, config)) {
            SamplingParams params = SamplingParams.greedy(decodeTokens).withIgnoreEos(true);
            engine.addRequest("warmup", prompt, SamplingParams.greedy(Math.min(8, decodeTokens)).withIgnoreEos(true)).result().join();
            for (int i = 0; i < repeat; i++) {
                RequestMetrics m = engine.addRequest("run-" + i, prompt, params).result().join().metrics();
                bestPrefill = Math.max(bestPrefill, m.prefillTokensPerSecond());
                bestDecode = Math.max(bestDecode, m.decodeTokensPerSecond());
            }
        }
        double bw = BandwidthProbe.measureGBps();
        return new Result(model.name(), WorkerPool.shared().threads(), promptTokens, decodeTokens,
                Transformer.streamedBytes(model.weights()), bestPrefill, bestDecode, bw);
    }
}
