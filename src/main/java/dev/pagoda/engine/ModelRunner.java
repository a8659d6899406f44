package dev.pagoda.engine;

import dev.pagoda.attention.PagedAttentionBackend;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.model.ForwardBatch;
import dev.pagoda.model.Model;
import dev.pagoda.model.Transformer;
import dev.pagoda.scheduler.ScheduledBatch;
import dev.pagoda.scheduler.Sequence;
import java.util.function.UnaryOperator;

/**
 * A scheduled batch in, one forward pass, logits rows out. Scheduled sequence i contributes the rows of its
 * chunk that need logits: its last token's when the chunk samples, and every prompt position's when prompt
 * logprobs are wanted. Buffers are sized once for the step capacity and reused.
 */
final class ModelRunner {
    private final Transformer transformer;
    private final PagedAttentionBackend attention;
    private final ForwardBatch<KvSequence> batch;
    private final int vocab;
    private final int[] lastRow;
    private float[] logits;
    private Forward forward;

    /** The model's part of a step: the batch through every layer, logits out. */
    interface Forward {
        void run(ForwardBatch<KvSequence> batch, float[] logits);
    }

    ModelRunner(Model model, KvMemory memory, int maxStepTokens, int maxSeqs) {
        this.vocab = model.config().vocabSize();
        this.transformer = new Transformer(model, maxStepTokens);
        this.attention = new PagedAttentionBackend(memory, model.config().heads(), WorkerPool.shared());
        this.batch = new ForwardBatch<>(maxStepTokens, maxSeqs);
        this.logits = new float[Math.min(maxStepTokens, maxSeqs) * vocab];
        this.lastRow = new int[maxSeqs];
        this.forward = (fb, out) -> transformer.forward(fb, attention, out);
    }

    /** Test hook: wraps the forward pass (to tell what the model does in a step from what the engine does). */
    void wrapForward(UnaryOperator<Forward> wrapper) {
        forward = wrapper.apply(forward);
    }

    /** Builds the step's batch from the scheduled chunks (their slots are allocated) and runs it through the model. */
    void execute(ScheduledBatch<SeqState> b) {
        batch.clear();
        for (int i = 0; i < b.size(); i++) {
            Sequence<SeqState> s = b.sequence(i);
            int from = s.computed(), n = b.count(i);
            boolean promptRows = s.owner().request.wantsPromptLogprobs(from);
            batch.addSequence(s.kv(), s.tokens(), from, n, from, b.samples(i), promptRows);
            lastRow[i] = batch.logitCount() - 1;
        }
        if ((long) batch.logitCount() * vocab > logits.length) {
            logits = new float[batch.logitCount() * vocab];
        }
        forward.run(batch, logits);
    }

    /** The logits of the last step: row r is logits[r * vocab, (r + 1) * vocab). */
    float[] logits() {
        return logits;
    }

    /** The last logits row of scheduled sequence i (its sampling row when its chunk samples). */
    int lastRow(int i) {
        return lastRow[i];
    }
}
