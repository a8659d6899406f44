package dev.pagoda.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Thousands of seeded random admit/append/fork/write/free steps over many sequences, checking the pool's
 * invariants and what every sequence reads back after each step.
 */
class PagedAllocatorRandomTest {
    private static final int LAYERS = 2;
    private static final int KV_HEADS = 2;
    private static final int HEAD_DIM = 4;
    private static final int BLOCK_SIZE = 4;
    private static final int BLOCKS = 48;

    /** A live sequence and the value it wrote at each position (K of layer l holds value + l, V value + 0.5). */
    private static final class Live {
        final BlockTable table;
        float[] values = new float[0];

        Live(BlockTable table) {
            this.table = table;
        }
    }

    private final float[] row = new float[KV_HEADS * HEAD_DIM];
    private int nextValue = 1;

    @Test
    void invariantsHoldThroughRandomOperations() {
        for (long seed = 1; seed <= 3; seed++) {
            run(new Random(seed), 3000);
        }
    }

    private void run(Random rnd, int steps) {
        KvShape shape = new KvShape(LAYERS, KV_HEADS, HEAD_DIM, BLOCK_SIZE, KvDtype.F32);
        try (KvMemory memory = KvMemory.ofBlocks(shape, BLOCKS)) {
            PagedAllocator allocator = (PagedAllocator) KvAllocator.create(KvLayout.PAGED, memory);
            List<Live> live = new ArrayList<>();
            for (int step = 0; step < steps; step++) {
                int op = rnd.nextInt(10);
                if (op < 2 || live.isEmpty()) {
                    int n = rnd.nextInt(12);
                    if (allocator.canAdmit(n, n + 20)) {
                        Live s = new Live(allocator.admit(n, n + 20));
                        write(memory, s, 0, n);
                        live.add(s);
                    }
                } else if (op < 6) {
                    Live s = live.get(rnd.nextInt(live.size()));
                    int n = 1 + rnd.nextInt(6);
                    if (allocator.canAppend(s.table, n)) {
                        int before = s.table.length();
                        int freeBefore = allocator.pool().freeBlocks();
                        int needed = allocator.blocksNeededToAppend(s.table, n);
                        allocator.append(s.table, n);
                        assertThat(freeBefore - allocator.pool().freeBlocks()).isLessThanOrEqualTo(needed);
                        write(memory, s, before, n);
                    } else {
                        int freeBefore = allocator.pool().freeBlocks();
                        assertThat(allocator.blocksNeededToAppend(s.table, n)).isGreaterThan(freeBefore);
                    }
                } else if (op < 8) {
                    Live parent = live.get(rnd.nextInt(live.size()));
                    Live child = new Live(allocator.fork(parent.table));
                    child.values = parent.values.clone();
                    live.add(child);
                } else {
                    Live s = live.remove(rnd.nextInt(live.size()));
                    allocator.free(s.table);
                }
                checkInvariants(allocator, live);
                checkReads(memory, live);
            }
            assertThat(allocator.copyOnWriteCopies()).as("copy-on-write exercised").isPositive();
            for (Live s : live) {
                allocator.free(s.table);
            }
            BlockPool pool = allocator.pool();
            assertThat(pool.freeBlocks()).isEqualTo(BLOCKS);
            for (int id = 0; id < BLOCKS; id++) {
                assertThat(pool.block(id).refCount()).isZero();
            }
            assertThat(allocator.usage(1).tokenSlots()).isZero();
        }
    }

    /** Writes fresh distinct values at positions first..first+n-1 of s, every layer, K and V. */
    private void write(KvMemory memory, Live s, int first, int n) {
        s.values = Arrays.copyOf(s.values, first + n);
        for (int p = first; p < first + n; p++) {
            float value = nextValue++;
            s.values[p] = value;
            int slot = s.table.slotFor(p);
            for (int layer = 0; layer < LAYERS; layer++) {
                Arrays.fill(row, value + layer);
                memory.writeToken(layer, KvMemory.K, slot, row, 0);
                Arrays.fill(row, value + layer + 0.5f);
                memory.writeToken(layer, KvMemory.V, slot, row, 0);
            }
        }
    }

    private void checkReads(KvMemory memory, List<Live> live) {
        for (Live s : live) {
            assertThat(s.table.length()).isEqualTo(s.values.length);
            for (int p = 0; p < s.table.length(); p++) {
                int slot = s.table.slotFor(p);
                for (int layer = 0; layer < LAYERS; layer++) {
                    memory.readToken(layer, KvMemory.K, slot, row, 0);
                    expectRow(s.values[p] + layer, p, layer);
                    memory.readToken(layer, KvMemory.V, slot, row, 0);
                    expectRow(s.values[p] + layer + 0.5f, p, layer);
                }
            }
        }
    }

    private void expectRow(float expected, int position, int layer) {
        for (float x : row) {
            if (x != expected) {
                fail("position " + position + " layer " + layer + " reads " + x + ", wrote " + expected);
            }
        }
    }

    private static void checkInvariants(PagedAllocator allocator, List<Live> live) {
        PoolInvariants.check(allocator, live.stream().map(s -> s.table).toList(), BLOCK_SIZE);
    }
}
