package dev.pagoda.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random admit-on-cache / compute / sample / fork / free steps with heavily shared prefixes. The K/V
 * written at a position is a fingerprint of the tokens up to it (and the extra key), as real K/V are a function
 * of the prefix: so after every step each sequence must read exactly its own prefix's fingerprints, whatever
 * blocks it got from the cache. Also checked after every step: ref counts equal holders, free blocks are
 * exactly the unreferenced ones, and every cache map entry holds the content its hash and tokens claim. With a
 * sliding window, each sequence releases its blocks out of the window after every step and must still read its
 * own fingerprints at every position the window of its next position covers.
 */
class PrefixCacheRandomTest {
    private static final int LAYERS = 2;
    private static final int BLOCK_SIZE = 4;
    private static final int BLOCKS = 40;
    private static final int VOCAB = 3;

    private static final class Live {
        final BlockTable table;
        final long extraKey;
        int[] tokens;
        int computed;

        Live(BlockTable table, long extraKey, int[] tokens, int computed) {
            this.table = table;
            this.extraKey = extraKey;
            this.tokens = tokens;
            this.computed = computed;
        }
    }

    private final float[] row = new float[2];
    /** The sliding window of the run (0: none). */
    private int window;
    private long queried;
    private long hit;

    @Test
    void invariantsHoldWithSha256() {
        for (long seed = 1; seed <= 2; seed++) {
            run(new Random(seed), new Sha256BlockHasher(), 1500, 0);
        }
    }

    /** Windows shorter than a block, of a block and a bit, and of several blocks; W = 1 reads only itself. */
    @Test
    void invariantsHoldWithASlidingWindow() {
        int[] windows = {1, 3, 6, 13};
        for (int i = 0; i < windows.length; i++) {
            run(new Random(10 + i), new Sha256BlockHasher(), 1500, windows[i]);
        }
    }

    /** A hash of the block's token sum mod 5, ignoring chain and key: collisions everywhere, hits still exact. */
    @Test
    void invariantsHoldWhenHashesCollide() {
        BlockHasher weak = (parent, tokens, from, count, extraKey) -> {
            int sum = 0;
            for (int i = from; i < from + count; i++) {
                sum += tokens[i];
            }
            return new BlockHash(new byte[] {(byte) (sum % 5)});
        };
        for (long seed = 3; seed <= 4; seed++) {
            run(new Random(seed), weak, 1500, 0);
        }
        run(new Random(5), weak, 1500, 6);
    }

    private void run(Random rnd, BlockHasher hasher, int steps, int window) {
        this.window = window;
        queried = 0;
        hit = 0;
        int[][] bases = new int[4][];
        for (int i = 0; i < bases.length; i++) {
            bases[i] = randomTokens(rnd, 8 + rnd.nextInt(17));
        }
        KvShape shape = new KvShape(LAYERS, 1, 2, BLOCK_SIZE, KvDtype.F32);
        try (KvMemory memory = KvMemory.ofBlocks(shape, BLOCKS)) {
            PagedAllocator allocator = new PagedAllocator(BLOCKS, BLOCK_SIZE, memory, hasher, null, window);
            List<Live> live = new ArrayList<>();
            for (int step = 0; step < steps; step++) {
                int op = rnd.nextInt(20);
                if (op < 5 || live.isEmpty()) {
                    admit(rnd, allocator, memory, live, bases);
                } else if (op < 13) {
                    compute(rnd, allocator, memory, live.get(rnd.nextInt(live.size())));
                } else if (op < 15) {
                    Live parent = live.get(rnd.nextInt(live.size()));
                    live.add(new Live(allocator.fork(parent.table), parent.extraKey, parent.tokens.clone(),
                            parent.computed));
                } else {
                    allocator.free(live.remove(rnd.nextInt(live.size())).table);
                }
                checkInvariants(allocator, live, hasher);
                checkCachedContent(allocator, memory);
                for (Live s : live) {
                    assertThat(s.table.length()).isEqualTo(s.computed);
                    assertThat(s.table.releasedBlocks()).as("every block out of the window is released")
                            .isEqualTo(firstVisible(s.computed) / BLOCK_SIZE);
                    checkReads(memory, s);
                }
            }
            PrefixCacheStats stats = allocator.prefixCacheStats();
            assertThat(stats.queriedTokens()).isEqualTo(queried);
            assertThat(stats.hitTokens()).isEqualTo(hit).as("hits exercised").isPositive();
            assertThat(stats.evictions()).as("evictions exercised").isPositive();
            assertThat(allocator.copyOnWriteCopies()).as("copy-on-write exercised").isPositive();
            for (Live s : live) {
                allocator.free(s.table);
            }
            BlockPool pool = allocator.pool();
            assertThat(pool.freeBlocks()).isEqualTo(BLOCKS);
            for (int id = 0; id < BLOCKS; id++) {
                assertThat(pool.block(id).refCount()).isZero();
            }
            assertThat(pool.cachedFreeBlocks()).as("every cached block is free").isEqualTo(pool.cachedBlocks());
            KvMemoryUsage usage = allocator.usage(1);
            assertThat(usage.blocksFree()).isEqualTo(BLOCKS);
            assertThat(usage.tokenSlots()).isZero();
            assertThat(usage.freeSlots()).isEqualTo(usage.totalSlots());
        }
    }

    private static int[] randomTokens(Random rnd, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rnd.nextInt(VOCAB);
        }
        return t;
    }

    private void admit(Random rnd, PagedAllocator allocator, KvMemory memory, List<Live> live, int[][] bases) {
        int[] base = bases[rnd.nextInt(bases.length)];
        int shared = rnd.nextInt(base.length + 1);
        int[] suffix = randomTokens(rnd, 1 + rnd.nextInt(6));
        int[] prompt = Arrays.copyOf(base, shared + suffix.length);
        System.arraycopy(suffix, 0, prompt, shared, suffix.length);
        long extraKey = rnd.nextInt(4) == 0 ? 1 : 0;
        PrefixHit h = allocator.lookupPrefix(prompt, prompt.length, extraKey);
        int cached = h.cachedTokens();
        assertThat(cached % BLOCK_SIZE).isZero();
        assertThat(cached).isLessThanOrEqualTo((prompt.length - 1) / BLOCK_SIZE * BLOCK_SIZE);
        for (int i = 0; i < h.cachedBlocks(); i++) {
            int[] stored = h.blocks[i].tokenIds;
            if (!Arrays.equals(stored, Arrays.copyOfRange(prompt, i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE))) {
                fail("hit block " + h.blocks[i].id + " holds other token ids");
            }
        }
        int n = Math.min(prompt.length - cached, 1 + rnd.nextInt(16));
        assertThat(allocator.blocksToAdmit(h, 0)).as("hit blocks out of the window are not taken")
                .isLessThanOrEqualTo(h.cachedBlocks() - firstVisible(cached) / BLOCK_SIZE);
        int freeBefore = allocator.pool().freeBlocks();
        int needed = allocator.blocksToAdmit(h, n);
        if (!allocator.canAdmitCached(h, n, prompt.length + 24)) {
            assertThat(needed).isGreaterThan(freeBefore);
            return;
        }
        Live s = new Live(allocator.admitCached(h, n, prompt.length + 24), extraKey, prompt, cached);
        assertThat(freeBefore - allocator.pool().freeBlocks()).isEqualTo(needed);
        assertThat(s.table.length()).isEqualTo(cached + n);
        queried += prompt.length;
        hit += cached;
        checkReads(memory, s); // the cached part already reads this prompt's K/V
        write(memory, s, n);
        computed(allocator, s);
        live.add(s);
    }

    /** One scheduler step for s: its next prompt chunk, or (prompt done) one sampled token. */
    private void compute(Random rnd, PagedAllocator allocator, KvMemory memory, Live s) {
        if (s.computed == s.tokens.length) {
            s.tokens = Arrays.copyOf(s.tokens, s.tokens.length + 1);
            s.tokens[s.tokens.length - 1] = rnd.nextInt(VOCAB);
        }
        int n = Math.min(s.tokens.length - s.computed, 1 + rnd.nextInt(6));
        if (!allocator.canAppend(s.table, n)) {
            return;
        }
        allocator.append(s.table, n);
        write(memory, s, n);
        computed(allocator, s);
    }

    /** After a step, as the scheduler does: caches the full blocks, then releases those out of the window. */
    private static void computed(PagedAllocator allocator, Live s) {
        allocator.cacheFullBlocks(s.table, s.tokens, s.computed);
        allocator.releaseOutOfWindow(s.table, s.computed);
    }

    /** The first position the window of a query at {@code position} reads (0 without a window). */
    private int firstVisible(int position) {
        return window == 0 ? 0 : Math.max(0, position - window + 1);
    }

    /** Computes the next n positions of s: writes their K/V, the prefix fingerprints. */
    private void write(KvMemory memory, Live s, int n) {
        long fp = fingerprint(s.extraKey, s.tokens, s.computed);
        for (int p = s.computed; p < s.computed + n; p++) {
            fp = next(fp, s.tokens[p]);
            int slot = s.table.slotFor(p);
            for (int layer = 0; layer < LAYERS; layer++) {
                for (int kv = 0; kv < 2; kv++) {
                    Arrays.fill(row, part(fp, layer, kv));
                    memory.writeToken(layer, kv, slot, row, 0);
                }
            }
        }
        s.computed += n;
    }

    /** The positions of s that its next query reads (all computed ones without a window): s's own prefixes. */
    private void checkReads(KvMemory memory, Live s) {
        int from = firstVisible(s.computed);
        long fp = fingerprint(s.extraKey, s.tokens, from);
        for (int p = from; p < s.computed; p++) {
            fp = next(fp, s.tokens[p]);
            expect(memory, s.table.slotFor(p), fp, "position " + p);
        }
    }

    private void expect(KvMemory memory, int slot, long fp, String what) {
        for (int layer = 0; layer < LAYERS; layer++) {
            for (int kv = 0; kv < 2; kv++) {
                memory.readToken(layer, kv, slot, row, 0);
                float expected = part(fp, layer, kv);
                if (row[0] != expected || row[1] != expected) {
                    fail(what + " (slot " + slot + ") reads K/V of another prefix");
                }
            }
        }
    }

    /** Fingerprint of tokens[0..length) under extraKey. */
    private static long fingerprint(long extraKey, int[] tokens, int length) {
        long fp = 0x5DEECE66DL * (extraKey + 1);
        for (int p = 0; p < length; p++) {
            fp = next(fp, tokens[p]);
        }
        return fp;
    }

    private static long next(long fp, int token) {
        long z = fp * 0x9E3779B97F4A7C15L + token + 1;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** 16 bits of the fingerprint per (layer, K or V): exact as a float. */
    private static float part(long fp, int layer, int kv) {
        return (fp >>> (16 * (layer * 2 + kv))) & 0xFFFF;
    }

    /**
     * Every cached block is in the map under its hash, full, and, where its chain of parents is still intact,
     * holds the K/V of the prefix its stored tokens spell, under the hash its parent's hash and tokens give.
     */
    private void checkCachedContent(PagedAllocator allocator, KvMemory memory) {
        BlockPool pool = allocator.pool();
        int hashed = 0;
        int hashedFree = 0;
        for (int id = 0; id < BLOCKS; id++) {
            PhysicalBlock b = pool.block(id);
            if (b.contentHash() == null) {
                continue;
            }
            hashed++;
            if (b.refCount() == 0) {
                hashedFree++;
            }
            assertThat(pool.cachedBlock(b.contentHash())).isSameAs(b);
            assertThat(b.filled()).isEqualTo(BLOCK_SIZE);
            List<PhysicalBlock> chain = new ArrayList<>();
            boolean intact = true;
            for (PhysicalBlock c = b; c != null; c = c.parent) {
                chain.addFirst(c);
                if (c.parent != null && c.parent.generation != c.parentGeneration) {
                    intact = false;
                    break;
                }
            }
            if (!intact) {
                continue;
            }
            int[] prefix = new int[chain.size() * BLOCK_SIZE];
            for (int i = 0; i < chain.size(); i++) {
                System.arraycopy(chain.get(i).tokenIds, 0, prefix, i * BLOCK_SIZE, BLOCK_SIZE);
            }
            int from = prefix.length - BLOCK_SIZE;
            long fp = fingerprint(b.extraKey, prefix, from);
            for (int p = from; p < prefix.length; p++) {
                fp = next(fp, prefix[p]);
                expect(memory, id * BLOCK_SIZE + p - from, fp, "cached block " + id);
            }
        }
        assertThat(pool.cachedBlocks()).isEqualTo(hashed);
        assertThat(pool.cachedFreeBlocks()).isEqualTo(hashedFree);
        assertThat(allocator.prefixCacheStats().cachedFreeBlocks()).isEqualTo(hashedFree);
    }

    private static void checkInvariants(PagedAllocator allocator, List<Live> live, BlockHasher hasher) {
        PoolInvariants.check(allocator, live.stream().map(s -> s.table).toList(), BLOCK_SIZE);
        assertThat(allocator.pool().numBlocks()).isEqualTo(BLOCKS);
        // A cached block whose recorded parent is still the block it was chained to hashes to its content hash.
        for (int id = 0; id < BLOCKS; id++) {
            PhysicalBlock b = allocator.pool().block(id);
            if (b.contentHash() != null && b.parent != null && b.parent.contentHash() != null
                    && b.parent.generation == b.parentGeneration) {
                assertThat(hasher.hash(b.parent.contentHash(), b.tokenIds, 0, BLOCK_SIZE, b.extraKey))
                        .isEqualTo(b.contentHash());
            }
        }
    }
}
