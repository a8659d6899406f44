package dev.pagoda.constraint;

import dev.pagoda.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Comparator;

/**
 * The model's vocabulary as a trie over each token's decoded bytes (decoded once, here), so that one walk
 * with an automaton finds every token it accepts, pruning a whole subtree at the first byte it rejects.
 * Special tokens and tokens that decode to nothing are left out: a constraint never emits them (EOS is
 * added separately where the value is complete). Immutable; shared by every constraint over this vocabulary.
 */
public final class VocabularyTrie {
    private final int vocab;
    private final byte[][] bytes;
    /** Per node: its byte, first child, next sibling (-1 for none), first token ending here (-1 for none). */
    final int[] label;
    final int[] firstChild;
    final int[] nextSibling;
    final int[] firstToken;
    /** Per token: the next token with the same bytes (-1 for none). */
    final int[] nextToken;

    private VocabularyTrie(int vocab, byte[][] bytes, int[] label, int[] firstChild, int[] nextSibling, int[] firstToken,
                           int[] nextToken) {
        this.vocab = vocab;
        this.bytes = bytes;
        this.label = label;
        this.firstChild = firstChild;
        this.nextSibling = nextSibling;
        this.firstToken = firstToken;
        this.nextToken = nextToken;
    }

    /** @param vocab the model's logits width (may exceed the tokenizer's table; the rest never match) */
    public static VocabularyTrie of(Tokenizer tokenizer, int vocab) {
        int n = Math.min(vocab, tokenizer.vocabSize());
        byte[][] bytes = new byte[vocab][];
        Integer[] order = new Integer[n];
        int kept = 0;
        for (int id = 0; id < n; id++) {
            byte[] b = tokenizer.tokenBytes(id);
            if (!tokenizer.isSpecial(id) && b.length > 0) {
                bytes[id] = b;
                order[kept++] = id;
            }
        }
        Integer[] ids = Arrays.copyOf(order, kept);
        Arrays.sort(ids, Comparator.comparing((Integer id) -> bytes[id], Arrays::compareUnsigned));
        int capacity = 1;
        for (Integer id : ids) {
            capacity += bytes[id].length;
        }
        int[] label = new int[capacity], first = new int[capacity], sibling = new int[capacity], token = new int[capacity];
        int[] nextToken = new int[vocab];
        Arrays.fill(first, -1);
        Arrays.fill(sibling, -1);
        Arrays.fill(token, -1);
        Arrays.fill(nextToken, -1);
        int nodes = 1;
        // path[d] = node at depth d + 1 of the previous token; sorted order makes shared prefixes adjacent.
        int[] path = new int[64];
        byte[] prev = new byte[0];
        for (Integer id : ids) {
            byte[] b = bytes[id];
            if (b.length > path.length) {
                path = Arrays.copyOf(path, b.length * 2);
            }
            int common = 0;
            while (common < b.length && common < prev.length && b[common] == prev[common]) {
                common++;
            }
            int parent = common == 0 ? 0 : path[common - 1];
            for (int d = common; d < b.length; d++) {
                int node = nodes++;
                label[node] = b[d] & 0xFF;
                // Children are appended in byte order: link after the parent's last child.
                if (first[parent] < 0) {
                    first[parent] = node;
                } else {
                    int c = first[parent];
                    while (sibling[c] >= 0) {
                        c = sibling[c];
                    }
                    sibling[c] = node;
                }
                path[d] = node;
                parent = node;
            }
            int leaf = b.length == 0 ? 0 : path[b.length - 1];
            nextToken[id] = token[leaf];
            token[leaf] = id;
            prev = b;
        }
        return new VocabularyTrie(vocab, bytes, Arrays.copyOf(label, nodes), Arrays.copyOf(first, nodes),
                Arrays.copyOf(sibling, nodes), Arrays.copyOf(token, nodes), nextToken);
    }

    /** Logits per position. */
    public int vocab() {
        return vocab;
    }

    /** The token's bytes, or null for a token constraints never emit. */
    byte[] bytes(int token) {
        return token >= 0 && token < vocab ? bytes[token] : null;
    }

    int nodes() {
        return label.length;
    }
}
