package dev.pagoda.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A byte-level BPE vocabulary of any size for random-weight benchmark models: the 256 byte tokens, seeded
 * random merges of existing tokens (each merge's parts exist, so it is a valid rank-ordered BPE), and two
 * control tokens at the end (BOS, EOS). Written to GGUF as {@code tokenizer.ggml.model = gpt2} with the
 * {@code gpt-2} pre-tokenizer and add_bos; {@link #tokenizer()} builds the same tokenizer without a file.
 *
 * @param types GGUF token types: 1 normal, 3 control
 */
public record SyntheticVocabulary(String[] tokens, int[] types, String[] merges, int bosId, int eosId) {
    private static final int MAX_PIECE_CHARS = 8;

    /** The tokenizer a GGUF file written with this vocabulary loads to (gpt-2 pre-tokenizer, BOS added, no EOS). */
    public Tokenizer tokenizer() {
        TokenType[] kinds = new TokenType[types.length];
        for (int i = 0; i < types.length; i++) {
            kinds[i] = TokenType.ofGguf(types[i]);
        }
        Vocabulary vocab = new Vocabulary(tokens, kinds, ByteLevelBpe.decodedBytes(tokens, kinds));
        return new ByteLevelBpe(vocab, merges, PreTokenizer.forGguf("gpt-2", "synthetic vocabulary"), bosId, eosId,
                true, false, false);
    }

    public static SyntheticVocabulary byteLevel(int size, long seed) {
        if (size < 258) {
            throw new IllegalArgumentException("a byte-level vocabulary needs at least 258 tokens, got " + size);
        }
        List<String> tokens = new ArrayList<>(size);
        Set<String> seen = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            String t = String.valueOf(ByteUnicode.charOf(b));
            tokens.add(t);
            seen.add(t);
        }
        List<String> merges = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        int normal = size - 2;
        while (tokens.size() < normal) {
            // Left parts drawn from the whole vocabulary, right parts mostly from short tokens: word-like growth.
            String left = tokens.get(rnd.nextInt(tokens.size()));
            String right = tokens.get(rnd.nextInt(rnd.nextInt(4) == 0 ? tokens.size() : 256));
            String joined = left + right;
            if (joined.length() <= MAX_PIECE_CHARS && seen.add(joined)) {
                tokens.add(joined);
                merges.add(left + " " + right);
            }
        }
        tokens.add("<|begin_of_text|>");
        tokens.add("<|end_of_text|>");
        int[] types = new int[size];
        Arrays.fill(types, 1);
        types[size - 2] = 3;
        types[size - 1] = 3;
        return new SyntheticVocabulary(tokens.toArray(String[]::new), types, merges.toArray(String[]::new), size - 2, size - 1);
    }
}
