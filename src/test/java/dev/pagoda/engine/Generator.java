package dev.pagoda.engine;

import dev.pagoda.PagodaException;
import dev.pagoda.attention.DenseKvAttention;
import dev.pagoda.model.ForwardBatch;
import dev.pagoda.model.Model;
import dev.pagoda.model.Transformer;
import dev.pagoda.sampling.Sampler;
import dev.pagoda.sampling.SamplingParams;
import dev.pagoda.sampling.TokenLogprobs;
import dev.pagoda.tokenizer.Detokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The foundation's path, kept as the tests' reference: one request at a time over a dense per-sequence
 * K/V buffer, prefill in chunks, then one token per step until a stop token, max_tokens or the context
 * length. The engine must reproduce its greedy tokens exactly, whatever the batch.
 */
public final class Generator {
    /** Receives text deltas as they are generated (never a broken UTF-8 sequence). */
    public interface TextListener {
        void onText(String delta);
    }

    private final Model model;
    private final Transformer transformer;
    private final DenseKvAttention kv;
    private final ForwardBatch<Integer> batch;
    private final int maxBatchTokens;
    private final float[] logits;
    private final int contextLength;

    public Generator(Model model, int maxBatchTokens) {
        this.model = model;
        this.transformer = new Transformer(model, maxBatchTokens);
        this.contextLength = model.config().contextLength();
        this.kv = new DenseKvAttention(model.config(), 1, contextLength);
        this.batch = new ForwardBatch<>(maxBatchTokens, 1);
        this.maxBatchTokens = maxBatchTokens;
        this.logits = new float[model.config().vocabSize()];
    }

    public Model model() {
        return model;
    }

    /**
     * Runs a prompt. {@code echo} receives the detokenized prompt first (as run.c prints it), then the
     * generated deltas; it may be null.
     */
    public RequestResult generate(int[] prompt, SamplingParams params, TextListener echo, TextListener generated) {
        if (prompt.length == 0) {
            throw new PagodaException("the prompt has no tokens");
        }
        if (prompt.length >= contextLength) {
            throw new PagodaException("the prompt has " + prompt.length + " tokens; the model's context length is " + contextLength
                    + " and at least one token must be generated");
        }
        int vocab = model.config().vocabSize();
        Sampler sampler = new Sampler(vocab, params, prompt, model.stopTokens(), 0);
        Detokenizer detok = model.tokenizer().newDetokenizer(true);
        for (int t : prompt) {
            String d = detok.next(t);
            if (echo != null && !d.isEmpty()) {
                echo.onText(d);
            }
        }
        List<TokenLogprobs> logprobs = params.wantsLogprobs() ? new ArrayList<>() : null;
        int[] scratch = params.wantsLogprobs() ? new int[vocab] : null;
        int[] out = new int[Math.min(params.maxTokens(), contextLength - prompt.length)];
        StringBuilder text = new StringBuilder();

        long t0 = System.nanoTime();
        for (int start = 0; start < prompt.length; start += maxBatchTokens) {
            int n = Math.min(maxBatchTokens, prompt.length - start);
            batch.clear();
            batch.addSequence(0, prompt, start, n, start, start + n == prompt.length);
            transformer.forward(batch, kv, logits);
        }
        long t1 = System.nanoTime();
        int count = 0;
        FinishReason reason = FinishReason.LENGTH;
        int[] one = new int[1];
        while (true) {
            int token = sampler.sample(logits, 0);
            sampler.accept(token);
            if (logprobs != null) {
                logprobs.add(TokenLogprobs.of(logits, 0, vocab, token, params.logprobs(), scratch));
            }
            out[count++] = token;
            if (!params.ignoreEos() && model.isStopToken(token)) {
                reason = FinishReason.STOP;
                break;
            }
            String d = detok.next(token);
            if (!d.isEmpty()) {
                text.append(d);
                if (generated != null) {
                    generated.onText(d);
                }
            }
            if (count == out.length) {
                break;
            }
            one[0] = token;
            batch.clear();
            batch.addSequence(0, one, 0, 1, prompt.length + count - 1, true);
            transformer.forward(batch, kv, logits);
        }
        String tail = detok.flush();
        if (!tail.isEmpty()) {
            text.append(tail);
            if (generated != null) {
                generated.onText(tail);
            }
        }
        long t2 = System.nanoTime();
        double cum = 0;
        if (logprobs != null) {
            for (TokenLogprobs t : logprobs) {
                cum += t.logprob();
            }
        }
        CompletionOutput c = new CompletionOutput(0, Arrays.copyOf(out, count), text.toString(), reason, logprobs, cum);
        return new RequestResult("solo", prompt, List.of(c), null, new RequestMetrics(t0, t0, t1, t2, prompt.length, count));
    }
}
