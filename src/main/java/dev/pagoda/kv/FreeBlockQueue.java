package dev.pagoda.kv;

/**
 * The free blocks as an intrusive doubly-linked list (links live in {@link PhysicalBlock}): O(1) pop from the
 * front, append at the back, and removal from the middle (a cached block revived by a prefix-cache hit).
 * Front = least recently freed, so it also serves as the eviction order of cached blocks.
 */
public final class FreeBlockQueue {
    private final PhysicalBlock head = new PhysicalBlock(-1);
    private int size;

    public FreeBlockQueue() {
        head.prev = head;
        head.next = head;
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** Whether {@code b} is linked in this (or any) queue. */
    public static boolean isLinked(PhysicalBlock b) {
        return b.next != null;
    }

    public void append(PhysicalBlock b) {
        if (isLinked(b)) {
            throw new IllegalStateException("block " + b.id + " is already in the free queue");
        }
        PhysicalBlock last = head.prev;
        b.prev = last;
        b.next = head;
        last.next = b;
        head.prev = b;
        size++;
    }

    /** The front block (next to be reused), or null when empty. */
    PhysicalBlock front() {
        return size == 0 ? null : head.next;
    }

    /** The block behind {@code b} (reused after it), or null when {@code b} is the last. */
    PhysicalBlock behind(PhysicalBlock b) {
        return b.next == head ? null : b.next;
    }

    public PhysicalBlock popFront() {
        if (size == 0) {
            throw new IllegalStateException("free block queue is empty");
        }
        PhysicalBlock b = head.next;
        remove(b);
        return b;
    }

    public void remove(PhysicalBlock b) {
        if (!isLinked(b)) {
            throw new IllegalStateException("block " + b.id + " is not in the free queue");
        }
        b.prev.next = b.next;
        b.next.prev = b.prev;
        b.prev = null;
        b.next = null;
        size--;
    }
}
