package dev.pagoda.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PrefixCacheTest {

    private static PagedAllocator cachingAllocator(int numBlocks, int blockSize) {
        return new PagedAllocator(numBlocks, blockSize, BlockCopier.NONE, new Sha256BlockHasher(), null, 0);
    }

    private static int[] range(int from, int to) {
        return IntStream.range(from, to).toArray();
    }

    private static int[] concat(int[] a, int... b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** Admits {@code tokens[0..length)} on whatever is cached, as if one step computed all of them. */
    private static BlockTable computePrompt(PagedAllocator allocator, int[] tokens, int length) {
        PrefixHit hit = allocator.lookupPrefix(tokens, length);
        BlockTable t = allocator.admitCached(hit, length - hit.cachedTokens(), length + 16);
        allocator.cacheFullBlocks(t, tokens, length);
        return t;
    }

    private static int[] ids(BlockTable t) {
        return IntStream.range(0, t.numBlocks()).map(t::blockId).toArray();
    }

    @Test
    void aFullyCachedPromptStillRecomputesItsLastToken() {
        PagedAllocator allocator = cachingAllocator(16, 16);
        int[] tokens = range(1000, 1033);
        BlockTable first = computePrompt(allocator, tokens, 32);
        assertThat(allocator.prefixCacheStats().cachedBlocks()).isEqualTo(2);
        assertThat(allocator.lookupPrefix(tokens, 32).cachedTokens()).as("32-token prompt").isEqualTo(16);
        assertThat(allocator.lookupPrefix(tokens, 33).cachedTokens()).as("33-token prompt").isEqualTo(32);
        assertThat(allocator.lookupPrefix(tokens, 17).cachedTokens()).isEqualTo(16);
        assertThat(allocator.lookupPrefix(tokens, 16).cachedTokens()).isZero();
        assertThat(allocator.lookupPrefix(tokens, 0).cachedTokens()).isZero();

        PrefixHit hit = allocator.lookupPrefix(tokens, 33);
        assertThat(allocator.blocksToAdmit(hit, 1)).as("one fresh block, the hit blocks are held").isEqualTo(1);
        BlockTable second = allocator.admitCached(hit, 1, 40);
        assertThat(second.length()).isEqualTo(33);
        assertThat(second.numBlocks()).isEqualTo(3);
        assertThat(second.blockId(0)).isEqualTo(first.blockId(0));
        assertThat(second.blockId(1)).isEqualTo(first.blockId(1));
        assertThat(allocator.pool().block(first.blockId(0)).refCount()).isEqualTo(2);
        assertThat(allocator.usage(1).tokenSlots()).as("shared cached slots count once").isEqualTo(33);
        assertThat(allocator.usage(1).sequenceTokens()).isEqualTo(65);

        PrefixCacheStats stats = allocator.prefixCacheStats();
        assertThat(stats.queriedTokens()).isEqualTo(32 + 33);
        assertThat(stats.hitTokens()).isEqualTo(32);
        assertThat(stats.hitRate()).isEqualTo(32.0 / 65);
        assertThat(stats.evictions()).isZero();
    }

    @Test
    void freedBlocksStayCachedAndAreEvictedLeastRecentlyFreedFirstTailFirst() {
        PagedAllocator allocator = cachingAllocator(6, 4);
        int[] a = range(1, 14);
        int[] b = range(101, 114);
        BlockTable ta = computePrompt(allocator, a, 12);
        BlockTable tb = computePrompt(allocator, b, 12);
        int[] aIds = ids(ta);
        allocator.free(ta);
        allocator.free(tb);

        BlockPool pool = allocator.pool();
        assertThat(pool.freeBlocks()).isEqualTo(6);
        assertThat(allocator.prefixCacheStats().cachedFreeBlocks()).isEqualTo(6);
        KvMemoryUsage usage = allocator.usage(1);
        assertThat(usage.blocksFree()).as("cached free blocks are free memory").isEqualTo(6);
        assertThat(usage.tokenSlots()).isZero();
        assertThat(usage.freeSlots()).isEqualTo(24);
        assertThat(allocator.lookupPrefix(a, 13).cachedTokens()).isEqualTo(12);

        BlockTable other = allocator.admit(4, 4);
        assertThat(other.blockId(0)).as("a's last block goes first").isEqualTo(aIds[2]);
        assertThat(allocator.lookupPrefix(a, 13).cachedTokens()).isEqualTo(8);
        assertThat(allocator.lookupPrefix(b, 13).cachedTokens()).isEqualTo(12);
        allocator.append(other, 8);
        assertThat(other.blockId(1)).isEqualTo(aIds[1]);
        assertThat(other.blockId(2)).isEqualTo(aIds[0]);
        assertThat(allocator.lookupPrefix(a, 13).cachedTokens()).isZero();
        assertThat(allocator.lookupPrefix(b, 13).cachedTokens()).isEqualTo(12);
        PrefixCacheStats stats = allocator.prefixCacheStats();
        assertThat(stats.evictions()).isEqualTo(3);
        assertThat(stats.cachedBlocks()).isEqualTo(3);
        assertThat(stats.cachedFreeBlocks()).isEqualTo(3);
        for (int id : aIds) {
            assertThat(pool.block(id).contentHash()).as("an evicted block has no hash").isNull();
        }
    }

    @Test
    void freeCachedBlocksAnAdmissionRevivesAreNotCountedAsFreeForItsFreshBlocks() {
        PagedAllocator allocator = cachingAllocator(4, 4);
        int[] tokens = range(1, 21);
        BlockTable first = computePrompt(allocator, tokens, 12);
        int[] cachedIds = ids(first);
        allocator.free(first);
        assertThat(allocator.pool().freeBlocks()).isEqualTo(4);

        PrefixHit hit = allocator.lookupPrefix(tokens, 20);
        assertThat(hit.cachedTokens()).isEqualTo(12);
        // 2 fresh blocks alone would fit in 4 free blocks, but 3 of those 4 are the hit itself.
        assertThat(allocator.blocksToAdmit(hit, 8)).isEqualTo(5);
        assertThat(allocator.canAdmitCached(hit, 8, 40)).isFalse();
        assertThatThrownBy(() -> allocator.admitCached(hit, 8, 40)).isInstanceOf(IllegalStateException.class);
        assertThat(allocator.pool().freeBlocks()).as("nothing half-allocated").isEqualTo(4);

        assertThat(allocator.blocksToAdmit(hit, 4)).isEqualTo(4);
        BlockTable second = allocator.admitCached(hit, 4, 40);
        assertThat(Arrays.copyOf(ids(second), 3)).containsExactly(cachedIds);
        assertThat(allocator.pool().freeBlocks()).isZero();
        assertThat(allocator.prefixCacheStats().evictions()).isZero();
        assertThat(allocator.prefixCacheStats().cachedBlocks()).isEqualTo(3);
    }

    @Test
    void forkedBlocksKeepOneHashCopiesStartWithNoneAndDuplicatesChainToTheCachedCopy() {
        PagedAllocator allocator = cachingAllocator(16, 4);
        int[] tokens = range(1, 18);
        BlockTable parent = computePrompt(allocator, tokens, 6);
        BlockTable child = allocator.fork(parent);
        allocator.cacheFullBlocks(child, tokens, 6);
        assertThat(allocator.prefixCacheStats().cachedBlocks()).as("the shared block is cached once").isEqualTo(1);

        int sharedPartial = parent.blockId(1);
        allocator.append(child, 6); // copy-on-write of the partly filled shared block
        int copy = child.blockId(1);
        assertThat(copy).isNotEqualTo(sharedPartial);
        assertThat(allocator.pool().block(copy).contentHash()).isNull();
        allocator.append(parent, 6);
        allocator.cacheFullBlocks(parent, tokens, 12);
        BlockPool pool = allocator.pool();
        assertThat(pool.block(sharedPartial).contentHash()).isNotNull();
        allocator.cacheFullBlocks(child, tokens, 12);
        assertThat(pool.block(copy).contentHash()).as("same content as the parent's, which stays the cached one")
                .isNull();
        assertThat(allocator.prefixCacheStats().cachedBlocks()).isEqualTo(3);

        allocator.append(child, 4);
        allocator.cacheFullBlocks(child, tokens, 16);
        int childOnly = child.blockId(3);
        assertThat(pool.block(childOnly).contentHash()).isNotNull();
        allocator.free(parent);
        PrefixHit hit = allocator.lookupPrefix(tokens, 17);
        assertThat(hit.cachedTokens()).as("the child's block chains to the parent's cached copy").isEqualTo(16);
        BlockTable next = allocator.admitCached(hit, 1, 20);
        assertThat(Arrays.copyOf(ids(next), 4)).containsExactly(child.blockId(0), sharedPartial,
                pool.block(childOnly).parent.id, childOnly);
    }

    @Test
    void sampledContinuationsGetTheirOwnCachedBlocks() {
        PagedAllocator allocator = cachingAllocator(16, 4);
        int[] prompt = range(1, 7);
        BlockTable parent = computePrompt(allocator, prompt, 6);
        BlockTable child = allocator.fork(parent);
        int[] p = concat(prompt, 50, 51, 52);
        int[] c = concat(prompt, 60, 61, 62);
        allocator.append(parent, 2);
        allocator.append(child, 2);
        allocator.cacheFullBlocks(parent, p, 8);
        allocator.cacheFullBlocks(child, c, 8);
        assertThat(allocator.prefixCacheStats().cachedBlocks()).isEqualTo(3);
        assertThat(allocator.lookupPrefix(p, 9).cachedBlocks()).isEqualTo(2);
        assertThat(allocator.lookupPrefix(c, 9).blocks[1].id).isEqualTo(child.blockId(1));
        assertThat(allocator.lookupPrefix(p, 9).blocks[1].id).isEqualTo(parent.blockId(1));
    }

    @Test
    void aHashCollisionNeverServesABlockComputedFromOtherTokens() {
        // Hashes a block by its own first token only, ignoring the chain: different prefixes collide.
        BlockHasher weak = (parent, tokens, from, count, extraKey) -> new BlockHash(new byte[] {(byte) tokens[from]});
        PagedAllocator allocator = new PagedAllocator(16, 4, BlockCopier.NONE, weak, null, 0);
        int[] x = {1, 1, 1, 1, 7, 7, 7, 7, 0};
        int[] d = {2, 2, 2, 2, 8, 8, 8, 8, 0};
        computePrompt(allocator, x, 8);
        BlockTable td = computePrompt(allocator, d, 8);
        int[] query = {2, 2, 2, 2, 7, 7, 7, 7, 0}; // d's first block, then x's second block under another prefix
        PrefixHit hit = allocator.lookupPrefix(query, 9);
        assertThat(hit.cachedTokens()).as("x's second block was computed after other tokens").isEqualTo(4);
        assertThat(hit.blocks[0].id).isEqualTo(td.blockId(0));

        int[] sameFirstToken = {1, 9, 9, 9, 0};
        assertThat(allocator.lookupPrefix(sameFirstToken, 5).cachedTokens()).as("token ids differ").isZero();
        assertThat(allocator.lookupPrefix(x, 9).cachedTokens()).isEqualTo(8);
    }

    @Test
    void extraKeysSeparateCaches() {
        PagedAllocator allocator = cachingAllocator(16, 4);
        int[] tokens = range(1, 10);
        PrefixHit miss = allocator.lookupPrefix(tokens, 8, 42);
        BlockTable t = allocator.admitCached(miss, 8, 16);
        allocator.cacheFullBlocks(t, tokens, 8);
        assertThat(allocator.lookupPrefix(tokens, 9, 42).cachedTokens()).isEqualTo(8);
        assertThat(allocator.lookupPrefix(tokens, 9).cachedTokens()).isZero();
    }

    @Test
    void aHitWhoseBlocksWereReusedIsStale() {
        PagedAllocator allocator = cachingAllocator(3, 4);
        int[] tokens = range(1, 10);
        allocator.free(computePrompt(allocator, tokens, 8));
        PrefixHit hit = allocator.lookupPrefix(tokens, 9);
        assertThat(hit.cachedTokens()).isEqualTo(8);
        allocator.admit(12, 12);
        assertThatThrownBy(() -> allocator.canAdmitCached(hit, 1, 16)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stale");
        assertThatThrownBy(() -> allocator.admitCached(hit, 1, 16)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void cachingIsOffUnlessAskedForAndNeverForTheContiguousLayout() {
        PagedAllocator plain = (PagedAllocator) KvAllocator.accounting(KvLayout.PAGED, 8, 4);
        assertThat(plain.prefixCaching()).isFalse();
        int[] tokens = range(1, 10);
        BlockTable t = plain.admitCached(plain.lookupPrefix(tokens, 8), 8, 16);
        plain.cacheFullBlocks(t, tokens, 8);
        assertThat(plain.lookupPrefix(tokens, 9).cachedTokens()).isZero();
        assertThat(plain.prefixCacheStats()).isEqualTo(new PrefixCacheStats(0, 0, 0, 0, 0));
        assertThatThrownBy(() -> plain.cacheFullBlocks(t, tokens, 9)).isInstanceOf(IllegalArgumentException.class);

        KvShape shape = new KvShape(1, 1, 4, 4, KvDtype.F32);
        try (KvMemory memory = KvMemory.ofBlocks(shape, 4)) {
            assertThat(KvAllocator.create(KvLayout.CONTIGUOUS, memory, true)).isInstanceOf(ContiguousAllocator.class);
            assertThat(((PagedAllocator) KvAllocator.create(KvLayout.PAGED, memory, true)).prefixCaching()).isTrue();
        }
    }

    @Test
    void aSecondSequenceReadsTheFirstOnesKvForItsCachedPrefix() {
        int layers = 2;
        int kvHeads = 2;
        int headDim = 4;
        KvShape shape = new KvShape(layers, kvHeads, headDim, 4, KvDtype.F32);
        try (KvMemory memory = KvMemory.ofBlocks(shape, 8)) {
            PagedAllocator allocator = (PagedAllocator) KvAllocator.create(KvLayout.PAGED, memory, true);
            int[] a = range(1, 11);
            BlockTable ta = computePrompt(allocator, a, 10);
            float[] row = new float[kvHeads * headDim];
            for (int p = 0; p < 10; p++) {
                writeRows(memory, ta.slotFor(p), 100 + p, layers, row);
            }
            int[] b = concat(Arrays.copyOf(a, 8), 77, 78, 79);
            PrefixHit hit = allocator.lookupPrefix(b, 11);
            assertThat(hit.cachedTokens()).isEqualTo(8);
            BlockTable tb = allocator.admitCached(hit, 3, 16);
            for (int p = 8; p < 11; p++) {
                writeRows(memory, tb.slotFor(p), 500 + p, layers, row);
            }
            for (int p = 0; p < 11; p++) {
                expectRows(memory, tb.slotFor(p), p < 8 ? 100 + p : 500 + p, layers, row);
            }
            for (int p = 0; p < 10; p++) {
                expectRows(memory, ta.slotFor(p), 100 + p, layers, row);
            }

            allocator.free(ta);
            allocator.free(tb);
            PrefixHit again = allocator.lookupPrefix(a, 10);
            assertThat(again.cachedTokens()).as("freed blocks keep their K/V and hash").isEqualTo(8);
            BlockTable tc = allocator.admitCached(again, 2, 16);
            for (int p = 0; p < 8; p++) {
                expectRows(memory, tc.slotFor(p), 100 + p, layers, row);
            }
        }
    }

    private static void writeRows(KvMemory memory, int slot, float value, int layers, float[] row) {
        for (int layer = 0; layer < layers; layer++) {
            Arrays.fill(row, value + layer * 1000);
            memory.writeToken(layer, KvMemory.K, slot, row, 0);
            Arrays.fill(row, -(value + layer * 1000));
            memory.writeToken(layer, KvMemory.V, slot, row, 0);
        }
    }

    private static void expectRows(KvMemory memory, int slot, float value, int layers, float[] row) {
        for (int layer = 0; layer < layers; layer++) {
            memory.readToken(layer, KvMemory.K, slot, row, 0);
            assertThat(row).containsOnly(value + layer * 1000);
            memory.readToken(layer, KvMemory.V, slot, row, 0);
            assertThat(row).containsOnly(-(value + layer * 1000));
        }
    }
}
