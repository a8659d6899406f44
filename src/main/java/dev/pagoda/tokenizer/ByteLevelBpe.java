package dev.pagoda.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Byte-level BPE (GPT-2 and its descendants): the pre-tokenizer splits text into words, each word's UTF-8 bytes
 * become GPT-2's byte characters, and adjacent symbols merge by rank from the merges list (lowest first,
 * leftmost on ties). With ignoreMerges (Llama 3) a word that is already a token is taken whole.
 */
final class ByteLevelBpe extends VocabTokenizer {
    private final PreTokenizer preTokenizer;
    private final MergeTable merges;
    private final boolean ignoreMerges;
    /** The token of each byte's character. */
    private final int[] byteSymbols = new int[256];

    ByteLevelBpe(Vocabulary vocab, String[] mergeRules, PreTokenizer preTokenizer, int bos, int eos,
                 boolean addBos, boolean addEos, boolean ignoreMerges) {
        super(vocab, bos, eos, addBos, addEos, Detokenizer.LeadingSpace.KEEP);
        this.preTokenizer = preTokenizer;
        this.ignoreMerges = ignoreMerges;
        this.merges = rankMerges(vocab, mergeRules);
        for (int b = 0; b < 256; b++) {
            byteSymbols[b] = vocab.id(String.valueOf(ByteUnicode.charOf(b)));
        }
    }

    /** GGUF's "left right" rules, in rank order. */
    static MergeTable rankMerges(Vocabulary vocab, String[] rules) {
        List<String[]> pairs = new ArrayList<>(rules.length);
        for (String rule : rules) {
            int space = rule.indexOf(' ', 1);
            pairs.add(space < 0 ? null : new String[] {rule.substring(0, space), rule.substring(space + 1)});
        }
        return rankMerges(vocab, pairs);
    }

    /** (left, right) rules in rank order; a rule whose parts or result are not tokens can never apply. */
    static MergeTable rankMerges(Vocabulary vocab, List<String[]> pairs) {
        MergeTable table = new MergeTable(pairs.size());
        for (int rank = 0; rank < pairs.size(); rank++) {
            String[] pair = pairs.get(rank);
            if (pair == null) {
                continue;
            }
            int l = vocab.id(pair[0]);
            int r = vocab.id(pair[1]);
            int merged = vocab.id(pair[0] + pair[1]);
            if (l >= 0 && r >= 0 && merged >= 0) {
                table.putIfAbsent(l, r, rank, merged);
            }
        }
        return table;
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        PairMerger merger = new PairMerger();
        for (String word : preTokenizer.split(text)) {
            byte[] utf8 = word.getBytes(StandardCharsets.UTF_8);
            if (ignoreMerges) {
                int whole = vocab.id(ByteUnicode.encode(word));
                if (whole >= 0) {
                    out.add(whole);
                    continue;
                }
            }
            int[] symbols = new int[utf8.length];
            for (int i = 0; i < utf8.length; i++) {
                symbols[i] = byteSymbols[utf8[i] & 0xFF];
            }
            int n = merger.merge(symbols, utf8.length, merges);
            for (int i = 0; i < n; i++) {
                if (symbols[i] >= 0) {
                    out.add(symbols[i]);
                }
            }
        }
    }

    /** Normal pieces decode through the byte map; control and user-defined pieces are plain text. */
    static byte[][] decodedBytes(String[] pieces, TokenType[] types) {
        byte[][] bytes = new byte[pieces.length][];
        for (int i = 0; i < pieces.length; i++) {
            bytes[i] = types[i] == TokenType.NORMAL ? ByteUnicode.decode(pieces[i])
                    : pieces[i].getBytes(StandardCharsets.UTF_8);
        }
        return bytes;
    }
}
