package dev.pagoda.tokenizer;

import java.util.Arrays;

/**
 * BPE merge rules: (left id, right id) -> (rank, merged id), lower rank merges first. An open-addressing
 * hash table over primitive longs, so lookups during encoding neither allocate nor box.
 */
final class MergeTable {
    private static final long EMPTY = -1L;

    private long[] keys;
    private long[] values;
    private int size;

    MergeTable(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, EMPTY);
    }

    /** Adds a rule unless the pair already has one (the first rule for a pair wins, like a ranked merges list). */
    void putIfAbsent(int left, int right, int rank, int merged) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        long key = key(left, right);
        int slot = find(key);
        if (keys[slot] == EMPTY) {
            keys[slot] = key;
            values[slot] = ((long) rank << 32) | (merged & 0xFFFFFFFFL);
            size++;
        }
    }

    /** (rank << 32 | merged id) of the rule for this pair, or -1 when the pair does not merge. */
    long lookup(int left, int right) {
        if (left < 0 || right < 0) {
            return -1;
        }
        long key = key(left, right);
        int slot = find(key);
        return keys[slot] == EMPTY ? -1 : values[slot];
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private int find(long key) {
        int mask = keys.length - 1;
        int slot = (int) (mix(key) & mask);
        while (keys[slot] != EMPTY && keys[slot] != key) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    private static long mix(long k) {
        k *= 0x9E3779B97F4A7C15L;
        return k ^ (k >>> 29);
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                int slot = find(oldKeys[i]);
                keys[slot] = oldKeys[i];
                values[slot] = oldValues[i];
            }
        }
    }
}
