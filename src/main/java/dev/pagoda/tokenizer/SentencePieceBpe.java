package dev.pagoda.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * SentencePiece BPE with byte fallback, as llama2.c's run.c and llama.cpp's SPM tokenizer run it: spaces become
 * the space marker (U+2581; a plain space in llama2.c files), a dummy-prefix space starts the text, then adjacent
 * pieces merge while their concatenation is a vocabulary piece, highest score first (leftmost on ties).
 * Characters left outside the vocabulary become their UTF-8 byte tokens {@code <0xNN>}.
 */
final class SentencePieceBpe extends VocabTokenizer {
    static final char SPACE_MARKER = '\u2581';

    private final char spaceMarker;
    private final boolean addSpacePrefix;
    private final int unk;
    private final int[] byteTokens;
    private final MergeTable merges;

    SentencePieceBpe(Vocabulary vocab, float[] scores, char spaceMarker, int bos, int eos, int unk,
                     boolean addBos, boolean addEos, boolean addSpacePrefix) {
        super(vocab, bos, eos, addBos, addEos,
                addSpacePrefix ? Detokenizer.LeadingSpace.STRIP_ONE : Detokenizer.LeadingSpace.KEEP);
        this.spaceMarker = spaceMarker;
        this.addSpacePrefix = addSpacePrefix;
        this.unk = unk;
        this.byteTokens = vocab.byteTokens();
        this.merges = scoreMerges(vocab, scores);
    }

    /**
     * Every way to split a piece into two pieces is a merge rule producing it. Scores become dense ranks
     * (equal scores, equal rank) so the shared merge loop's "lowest rank, leftmost" is "highest score, leftmost".
     */
    private static MergeTable scoreMerges(Vocabulary vocab, float[] scores) {
        float[] distinct = scores.clone();
        Arrays.sort(distinct);
        MergeTable table = new MergeTable(vocab.size() * 4);
        for (int id = 0; id < vocab.size(); id++) {
            String piece = vocab.piece(id);
            if (vocab.id(piece) != id) {
                continue;
            }
            int rank = scoreRank(distinct, scores[id]);
            for (int k = piece.offsetByCodePoints(0, 1); k < piece.length(); k = piece.offsetByCodePoints(k, 1)) {
                int left = vocab.id(piece.substring(0, k));
                int right = vocab.id(piece.substring(k));
                if (left >= 0 && right >= 0) {
                    table.putIfAbsent(left, right, rank, id);
                }
            }
        }
        return table;
    }

    /** 0 for the highest score; equal scores share a rank. */
    private static int scoreRank(float[] ascending, float score) {
        int last = Arrays.binarySearch(ascending, score);
        while (last + 1 < ascending.length && Float.compare(ascending[last + 1], score) == 0) {
            last++;
        }
        return ascending.length - 1 - last;
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        String s = addSpacePrefix && afterSpecial ? " " + text : text;
        if (spaceMarker != ' ') {
            s = s.replace(' ', spaceMarker);
        }
        int[] symbols = new int[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int next = i + Character.charCount(cp);
            int id = vocab.id(s.substring(i, next));
            symbols[n++] = id >= 0 ? id : -(cp + 1);
            i = next;
        }
        n = new PairMerger().merge(symbols, n, merges);
        for (int i = 0; i < n; i++) {
            int id = symbols[i];
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : Character.toString(-id - 1).getBytes(StandardCharsets.UTF_8)) {
                    int byteId = byteTokens[b & 0xFF];
                    out.add(byteId >= 0 ? byteId : unk);
                }
            }
        }
    }

    /** What each piece decodes to: byte tokens their byte, text pieces their UTF-8 with the marker as a space. */
    static byte[][] decodedBytes(String[] pieces, TokenType[] types, char spaceMarker) {
        byte[][] bytes = new byte[pieces.length][];
        for (int i = 0; i < pieces.length; i++) {
            int b = types[i] == TokenType.BYTE ? byteValue(pieces[i]) : -1;
            bytes[i] = b >= 0 ? new byte[] {(byte) b}
                    : pieces[i].replace(spaceMarker, ' ').getBytes(StandardCharsets.UTF_8);
        }
        return bytes;
    }

    /** The byte of a {@code <0xNN>} piece, or -1 for any other piece. */
    static int byteValue(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(piece.charAt(3), 16);
        int lo = Character.digit(piece.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }
}
