package dev.pagoda.kv;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link KvAllocator#describe} on hand-made examples of both layouts: block states, owners, reservations, holes. */
class BlockMapDescribeTest {
    /** What an allocator described, one array per block field and one string per other call. */
    private static final class Recorded implements BlockMapWriter {
        final int[] ref;
        final int[] tokens;
        final int[] reserved;
        final int[] flags;
        final int[] rank;
        final List<String> owners = new ArrayList<>();
        final List<String> reservations = new ArrayList<>();
        final List<String> holes = new ArrayList<>();
        int blockCalls;

        Recorded(int blocks) {
            ref = new int[blocks];
            tokens = new int[blocks];
            reserved = new int[blocks];
            flags = new int[blocks];
            rank = new int[blocks];
        }

        @Override
        public void block(int id, int refCount, int tokenSlots, int reservedSlots, int flags, int evictionRank) {
            blockCalls++;
            ref[id] = refCount;
            tokens[id] = tokenSlots;
            reserved[id] = reservedSlots;
            this.flags[id] = flags;
            rank[id] = evictionRank;
        }

        @Override
        public void owner(int id, int sequence, int first, int count) {
            owners.add("block " + id + " seq " + sequence + " positions " + first + "+" + count);
        }

        @Override
        public void reservation(int sequence, int baseSlot, int reservedSlots, int length) {
            reservations.add("seq " + sequence + " at " + baseSlot + " slots " + reservedSlots + " length " + length);
        }

        @Override
        public void hole(int startSlot, int slots, boolean external) {
            holes.add(startSlot + "+" + slots + (external ? " external" : ""));
        }
    }

    private static Recorded describe(KvAllocator allocator, List<KvSequence> sequences, int requestSlots) {
        Recorded r = new Recorded(allocator.numBlocks());
        allocator.describe(r, sequences, requestSlots);
        assertThat(r.blockCalls).as("one call per block").isEqualTo(allocator.numBlocks());
        return r;
    }

    /** A sliding-window sequence's released leading blocks are holes: it owns nothing there. */
    @Test
    void releasedBlocksOutOfTheWindowHaveNoOwner() {
        PagedAllocator allocator = new PagedAllocator(8, 4, BlockCopier.NONE, new Sha256BlockHasher(), null, 3);
        int[] tokens = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        BlockTable a = allocator.allocate(PrefixHit.none(4), 10, 12, 0);
        allocator.cacheFullBlocks(a, tokens, 10);
        allocator.releaseOutOfWindow(a, 10);
        assertThat(a.releasedBlocks()).isPositive();
        Recorded map = describe(allocator, List.of(a), 12);
        assertThat(map.owners).hasSize(a.numBlocks() - a.releasedBlocks()).allSatisfy(o -> assertThat(o).doesNotContain("block -1"));
        a.free();
    }

    @Test
    void pagedBlocksShowSharingCopyOnWriteAndCachedFreeBlocksInEvictionOrder() {
        PagedAllocator allocator = new PagedAllocator(8, 4, BlockCopier.NONE, new Sha256BlockHasher(), null, 0);
        int[] tokens = {1, 2, 3, 4, 5, 6, 7};
        BlockTable a = allocator.allocate(PrefixHit.none(4), 6, 10, 0);
        allocator.cacheFullBlocks(a, tokens, 6);
        BlockTable b = allocator.fork(a);

        Recorded shared = describe(allocator, List.of(a, b), 10);
        assertThat(Arrays.copyOf(shared.ref, 3)).containsExactly(2, 2, 0);
        assertThat(Arrays.copyOf(shared.tokens, 2)).containsExactly(4, 2);
        assertThat(Arrays.copyOf(shared.flags, 2)).containsExactly(BlockMapWriter.CACHED, 0);
        assertThat(shared.rank).containsExactly(-1, -1, 0, 1, 2, 3, 4, 5);
        assertThat(shared.owners).containsExactly("block 0 seq 0 positions 0+4", "block 1 seq 0 positions 4+2",
                "block 0 seq 1 positions 0+4", "block 1 seq 1 positions 4+2");
        assertThat(shared.reservations).isEmpty();
        assertThat(shared.holes).isEmpty();

        allocator.append(b, 1); // writes into the shared, partly filled block 1: copied into block 2
        Recorded copied = describe(allocator, List.of(a, b), 10);
        assertThat(Arrays.copyOf(copied.ref, 3)).containsExactly(2, 1, 1);
        assertThat(copied.tokens[2]).isEqualTo(3);
        assertThat(copied.flags[2]).isEqualTo(BlockMapWriter.COPIED);
        assertThat(copied.owners).contains("block 2 seq 1 positions 4+3");
        assertThat(describe(allocator, List.of(a, b), 10).flags[2]).as("flagged once").isZero();

        a.free();
        b.free();
        Recorded free = describe(allocator, List.of(), 10);
        assertThat(free.ref).containsOnly(0);
        assertThat(free.flags[0]).as("block 0 keeps its cached prefix").isEqualTo(BlockMapWriter.CACHED);
        assertThat(free.tokens).containsExactly(4, 0, 0, 0, 0, 0, 0, 0);
        // Freed tail first, after the blocks that were never used: 3..7, then 1 (a's), 2 and 0 (b's).
        assertThat(free.rank).containsExactly(7, 5, 6, 0, 1, 2, 3, 4);
        assertThat(free.owners).isEmpty();
    }

    @Test
    void contiguousBlocksShowReservationsTheirUnusedPartAndExternalHoles() {
        KvAllocator allocator = KvAllocator.accounting(KvLayout.CONTIGUOUS, 8, 4);
        KvSequence a = allocator.admit(3, 6);   // slots 0..5, tokens in 0..2
        KvSequence b = allocator.admit(2, 5);   // slots 6..10
        KvSequence c = allocator.admit(1, 12);  // slots 11..22, a token in 11
        b.free();                               // holes: 6..10 (5 slots) and 23..31 (9 slots)

        Recorded r = describe(allocator, List.of(a, c), 8);
        assertThat(r.reservations).containsExactly("seq 0 at 0 slots 6 length 3", "seq 1 at 11 slots 12 length 1");
        assertThat(r.holes).containsExactly("6+5 external", "23+9");
        assertThat(r.ref).containsExactly(1, 1, 1, 1, 1, 1, 0, 0);
        assertThat(r.tokens).containsExactly(3, 0, 1, 0, 0, 0, 0, 0);
        assertThat(r.reserved).containsExactly(1, 2, 0, 4, 4, 3, 0, 0);
        int e = BlockMapWriter.EXTERNAL;
        assertThat(r.flags).containsExactly(0, e, e, 0, 0, 0, 0, 0);
        assertThat(r.rank).containsOnly(-1);
        assertThat(r.owners).containsExactly("block 0 seq 0 positions 0+3", "block 1 seq 0 positions 4+0",
                "block 2 seq 1 positions 0+1", "block 3 seq 1 positions 1+0", "block 4 seq 1 positions 5+0",
                "block 5 seq 1 positions 9+0");
        a.free();
        c.free();
        Recorded empty = describe(allocator, List.of(), 8);
        assertThat(empty.holes).containsExactly("0+32");
        assertThat(empty.ref).containsOnly(0);
    }
}
