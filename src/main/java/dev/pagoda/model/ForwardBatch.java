package dev.pagoda.model;

/**
 * The tokens of one model step, flattened over all sequences: sequence s owns tokens
 * [seqStart[s], seqStart[s] + seqLength[s]) of the batch, at consecutive positions starting at
 * positions[seqStart[s]]. {@code seqIds} names each sequence for the attention backend (which keeps its
 * K/V). {@code logitTokens} lists the batch indices whose logits are wanted (usually each sequence's last
 * token). Arrays are preallocated to a capacity and reused every step; only the counts change.
 */
public final class ForwardBatch {
    public final int[] tokens;
    public final int[] positions;
    public final int[] seqStart;
    public final int[] seqLength;
    public final int[] seqIds;
    public final int[] logitTokens;
    private int tokenCount;
    private int seqCount;
    private int logitCount;

    public ForwardBatch(int maxTokens, int maxSeqs) {
        tokens = new int[maxTokens];
        positions = new int[maxTokens];
        seqStart = new int[maxSeqs];
        seqLength = new int[maxSeqs];
        seqIds = new int[maxSeqs];
        logitTokens = new int[maxTokens];
    }

    public void clear() {
        tokenCount = 0;
        seqCount = 0;
        logitCount = 0;
    }

    /**
     * Adds a chunk of one sequence: tokens[from, from+count) at positions startPos, startPos+1, ...
     * When {@code wantLogits}, the chunk's last token gets logits.
     */
    public void addSequence(int seqId, int[] src, int from, int count, int startPos, boolean wantLogits) {
        addSequence(seqId, src, from, count, startPos, wantLogits, false);
    }

    /** As above; {@code allLogits} gives every token of the chunk logits (prompt logprobs). */
    public void addSequence(int seqId, int[] src, int from, int count, int startPos, boolean wantLogits, boolean allLogits) {
        if (count <= 0 || tokenCount + count > tokens.length || seqCount == seqStart.length) {
            throw new IllegalStateException("batch capacity exceeded: " + (tokenCount + count) + " tokens, " + (seqCount + 1) + " sequences");
        }
        seqStart[seqCount] = tokenCount;
        seqLength[seqCount] = count;
        seqIds[seqCount] = seqId;
        seqCount++;
        for (int i = 0; i < count; i++) {
            tokens[tokenCount] = src[from + i];
            positions[tokenCount] = startPos + i;
            if (allLogits && (i < count - 1 || !wantLogits)) {
                logitTokens[logitCount++] = tokenCount;
            }
            tokenCount++;
        }
        if (wantLogits) {
            logitTokens[logitCount++] = tokenCount - 1;
        }
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

    public int maxTokens() {
        return tokens.length;
    }
}
