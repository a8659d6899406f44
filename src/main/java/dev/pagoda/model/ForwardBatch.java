package dev.pagoda.model;

import java.util.Arrays;

/**
 * The one description of a model step, built once per step and read by the model and by the attention
 * backend: the step's tokens flattened over all sequences. Sequence s owns tokens
 * [seqStart[s], seqStart[s] + seqLength[s]) of the batch, at consecutive positions starting at
 * positions[seqStart[s]]; {@code tokenSeq[t]} is the sequence of token t, and {@code sequence(s)} is where
 * the attention backend keeps sequence s's K/V (its slots are allocated before the step). Token t attends
 * to positions 0..positions[t] of its sequence, which makes a prefill chunk causal; prefill chunks and
 * decode tokens mix freely. {@code logitTokens} lists the tokens whose logits are wanted (usually each
 * sampling sequence's last token). Arrays are preallocated to a capacity and reused every step; only the
 * counts change.
 *
 * @param <S> the attention backend's handle on a sequence's K/V
 */
public final class ForwardBatch<S> {
    public final int[] tokens;
    public final int[] positions;
    public final int[] tokenSeq;
    public final int[] seqStart;
    public final int[] seqLength;
    public final int[] logitTokens;
    private final Object[] sequences;
    private int tokenCount;
    private int seqCount;
    private int logitCount;
    private int maxContext;

    public ForwardBatch(int maxTokens, int maxSeqs) {
        tokens = new int[maxTokens];
        positions = new int[maxTokens];
        tokenSeq = new int[maxTokens];
        seqStart = new int[maxSeqs];
        seqLength = new int[maxSeqs];
        sequences = new Object[maxSeqs];
        logitTokens = new int[maxTokens];
    }

    public void clear() {
        Arrays.fill(sequences, 0, seqCount, null);
        tokenCount = 0;
        seqCount = 0;
        logitCount = 0;
        maxContext = 0;
    }

    /**
     * Adds a chunk of one sequence: tokens src[from, from+count) at positions startPos, startPos+1, ...
     * When {@code wantLogits}, the chunk's last token gets logits; {@code allLogits} gives every token of the
     * chunk logits (prompt logprobs).
     */
    public void addSequence(S seq, int[] src, int from, int count, int startPos, boolean wantLogits, boolean allLogits) {
        if (count <= 0 || tokenCount + count > tokens.length || seqCount == seqStart.length) {
            throw new IllegalStateException("batch capacity exceeded: " + (tokenCount + count) + " tokens, " + (seqCount + 1) + " sequences");
        }
        int s = seqCount++;
        seqStart[s] = tokenCount;
        seqLength[s] = count;
        sequences[s] = seq;
        for (int i = 0; i < count; i++) {
            tokens[tokenCount] = src[from + i];
            positions[tokenCount] = startPos + i;
            tokenSeq[tokenCount] = s;
            if (allLogits && (i < count - 1 || !wantLogits)) {
                logitTokens[logitCount++] = tokenCount;
            }
            tokenCount++;
        }
        if (wantLogits) {
            logitTokens[logitCount++] = tokenCount - 1;
        }
        maxContext = Math.max(maxContext, startPos + count);
    }

    /** As above, logits only for the last token when {@code wantLogits}. */
    public void addSequence(S seq, int[] src, int from, int count, int startPos, boolean wantLogits) {
        addSequence(seq, src, from, count, startPos, wantLogits, false);
    }

    /** Where sequence s keeps its K/V. */
    @SuppressWarnings("unchecked")
    public S sequence(int s) {
        return (S) sequences[s];
    }

    public int tokenCount() {
        return tokenCount;
    }

    public int seqCount() {
        return seqCount;
    }

    public int logitCount() {
        return logitCount;
    }

    /** The longest context any token attends to. */
    public int maxContext() {
        return maxContext;
    }
}
