package dev.pagoda.kv;

/**
 * Places sequences in the KV cache; the one interface the scheduler uses for both layouts. Every mutating
 * call is check-then-act: {@code canAdmit}/{@code canAppend} first, then {@code admit}/{@code append}, which
 * throw {@link IllegalStateException} if called when the check fails, and never half-allocate.
 * Not thread-safe: owned by the scheduler thread.
 */
public sealed interface KvAllocator permits PagedAllocator, ContiguousAllocator {

    /** An allocator over {@code memory}; copy-on-write copies block content in it. No prefix caching. */
    static KvAllocator create(KvLayout layout, KvMemory memory) {
        return create(layout, memory, false);
    }

    /**
     * An allocator over {@code memory}, with prefix caching (SHA-256 block hashes) when {@code prefixCaching}
     * and the layout is paged; the contiguous baseline cannot share memory, so it ignores the flag.
     */
    static KvAllocator create(KvLayout layout, KvMemory memory, boolean prefixCaching) {
        return create(layout, memory.numBlocks(), memory.blockSize(), memory,
                prefixCaching ? new Sha256BlockHasher() : null);
    }

    /** An allocator that only accounts for slots (no memory behind them): for memory benchmarks. */
    static KvAllocator accounting(KvLayout layout, int numBlocks, int blockSize) {
        return create(layout, numBlocks, blockSize, BlockCopier.NONE, null);
    }

    private static KvAllocator create(KvLayout layout, int numBlocks, int blockSize, BlockCopier copier,
                                      BlockHasher hasher) {
        return switch (layout) {
            case PAGED -> new PagedAllocator(numBlocks, blockSize, copier, hasher);
            case CONTIGUOUS -> new ContiguousAllocator(numBlocks, blockSize);
        };
    }

    KvLayout layout();

    int blockSize();

    int totalSlots();

    /**
     * Whether a new sequence with {@code initialTokens} tokens (its prompt, or first prefill chunk) and at most
     * {@code maxLength} tokens ever (prompt + max tokens, capped by the max model length) can be placed now.
     */
    boolean canAdmit(int initialTokens, int maxLength);

    /** Places a new sequence holding slots for {@code initialTokens} tokens. */
    KvSequence admit(int initialTokens, int maxLength);

    /** Whether {@code n} more tokens of {@code seq} can get slots now. */
    boolean canAppend(KvSequence seq, int n);

    /** Gives {@code n} more tokens of {@code seq} slots (its length grows by n). */
    void append(KvSequence seq, int n);

    /** Releases every slot of {@code seq}; the sequence must not be used afterwards. */
    void free(KvSequence seq);

    /**
     * A new sequence sharing all of {@code parent}'s tokens (parallel sampling, beam search). Paged only: the
     * contiguous baseline cannot share and throws {@link UnsupportedOperationException}.
     */
    default KvSequence fork(KvSequence parent) {
        throw new UnsupportedOperationException(layout().label() + " KV layout cannot share memory between sequences");
    }

    /**
     * Accounting now; {@code requestSlots} is the maximum length of the request that external fragmentation
     * is judged against (see {@link KvMemoryUsage#externalFragmentation()}).
     */
    KvMemoryUsage usage(int requestSlots);
}
