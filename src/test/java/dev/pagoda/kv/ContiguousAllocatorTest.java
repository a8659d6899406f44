package dev.pagoda.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ContiguousAllocatorTest {
    /** 16 slots in 4 blocks of 4. */
    private final KvAllocator allocator = KvAllocator.accounting(KvLayout.CONTIGUOUS, 4, 4);

    @Test
    void firstFitAndExternalFragmentationOnAHandMadeExample() {
        ContiguousRun a = (ContiguousRun) allocator.admit(2, 5);
        ContiguousRun b = (ContiguousRun) allocator.admit(1, 4);
        ContiguousRun c = (ContiguousRun) allocator.admit(3, 3);
        ContiguousRun d = (ContiguousRun) allocator.admit(4, 4);
        assertThat(new int[] {a.base(), b.base(), c.base(), d.base()}).containsExactly(0, 5, 9, 12);
        assertThat(allocator.canAdmit(1, 1)).isFalse();

        b.free(); // free run [5,9)
        d.free(); // free run [12,16)
        ContiguousRun e = (ContiguousRun) allocator.admit(1, 3);
        assertThat(e.base()).as("first fit: the lowest run long enough").isEqualTo(5);
        // Free runs now: [8,9) of 1 slot and [12,16) of 4 slots.
        KvMemoryUsage forFour = allocator.usage(4);
        assertThat(forFour.freeSlots()).isEqualTo(5);
        assertThat(forFour.externalFragmentation()).isEqualTo(1);
        KvMemoryUsage forFive = allocator.usage(5);
        assertThat(forFive.externalFragmentation()).as("no run of 5 although 5 slots are free").isEqualTo(5);
        assertThat(allocator.canAdmit(1, 5)).isFalse();
        assertThat(forFive.tokenSlots()).isEqualTo(2 + 3 + 1);
        assertThat(forFive.reservedSlots()).isEqualTo((5 - 2) + (3 - 3) + (3 - 1));
        assertThat(forFive.internalFragmentation()).isZero();
        assertThat(forFive.blocksFree()).as("only block 3 (slots 12..15) is wholly free").isEqualTo(1);
        assertThat(forFive.wasteFraction()).isEqualTo(10.0 / 16);

        c.free(); // merges [8,9) + [9,12) + [12,16)
        assertThat(allocator.usage(8).externalFragmentation()).isZero();
        assertThat(((ContiguousRun) allocator.admit(0, 8)).base()).isEqualTo(8);
    }

    @Test
    void appendStaysInsideTheReservation() {
        KvSequence s = allocator.admit(3, 5);
        assertThat(s.slotFor(2)).isEqualTo(2);
        assertThat(s.canAppend(2)).isTrue();
        assertThat(s.canAppend(3)).isFalse();
        s.append(2);
        assertThat(s.length()).isEqualTo(5);
        assertThatThrownBy(() -> s.append(1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(s::fork).isInstanceOf(UnsupportedOperationException.class);
        s.free();
        assertThatThrownBy(s::free).isInstanceOf(IllegalStateException.class);
        assertThat(allocator.usage(16).freeSlots()).isEqualTo(16);
    }

    @Test
    void neverUsedReservationBecomesInternalFragmentation() {
        allocator.admit(2, 10);
        KvMemoryUsage u = allocator.usage(1).withNeverUsed(6);
        assertThat(u.reservedSlots()).isEqualTo(2);
        assertThat(u.internalFragmentation()).isEqualTo(6);
        assertThat(u.tokenSlots()).isEqualTo(2);
    }
}
