package dev.pagoda.constraint;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Code point ranges as UTF-8 byte-range sequences: [lo, hi] is split until every piece encodes to bytes
 * whose positions vary independently, so each piece is one sequence of byte ranges (as a UTF-8 decoder
 * automaton reads it). The pieces match exactly the encodings of the range's code points.
 */
final class Utf8Ranges {
    private Utf8Ranges() {
    }

    /** Each element: byte ranges [lo0, hi0, lo1, hi1, ...], one pair per byte of the encoding. */
    static List<int[]> of(CodePoints set) {
        List<int[]> out = new ArrayList<>();
        int[] r = set.ranges();
        for (int i = 0; i < r.length; i += 2) {
            split(r[i], r[i + 1], out);
        }
        return out;
    }

    private static final int[] MAX_OF_LENGTH = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};

    private static void split(int lo, int hi, List<int[]> out) {
        for (int max : MAX_OF_LENGTH) {
            if (lo <= max && hi > max) {
                split(lo, max, out);
                split(max + 1, hi, out);
                return;
            }
        }
        int n = length(lo);
        for (int i = 1; i < n; i++) {
            int m = (1 << (6 * i)) - 1;
            if ((lo & ~m) != (hi & ~m)) {
                if ((lo & m) != 0) {
                    split(lo, lo | m, out);
                    split((lo | m) + 1, hi, out);
                    return;
                }
                if ((hi & m) != m) {
                    split(lo, (hi & ~m) - 1, out);
                    split(hi & ~m, hi, out);
                    return;
                }
            }
        }
        byte[] a = encode(lo), b = encode(hi);
        int[] seq = new int[2 * n];
        for (int i = 0; i < n; i++) {
            seq[2 * i] = a[i] & 0xFF;
            seq[2 * i + 1] = b[i] & 0xFF;
        }
        out.add(seq);
    }

    private static int length(int cp) {
        return cp <= 0x7F ? 1 : cp <= 0x7FF ? 2 : cp <= 0xFFFF ? 3 : 4;
    }

    private static byte[] encode(int cp) {
        return new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
    }
}
