package dev.pagoda.tokenizer;

import dev.pagoda.PagodaException;

import java.util.HashMap;
import java.util.Map;

/**
 * The token table every tokenizer shares: pieces as stored, their kinds, the bytes each decodes to, and the
 * piece-to-id index (for duplicate pieces the highest id wins, as in llama.cpp).
 */
final class Vocabulary {
    private final String[] pieces;
    private final TokenType[] types;
    private final byte[][] bytes;
    private final Map<String, Integer> ids;

    Vocabulary(String[] pieces, TokenType[] types, byte[][] bytes) {
        this.pieces = pieces;
        this.types = types;
        this.bytes = bytes;
        this.ids = HashMap.newHashMap(pieces.length);
        for (int i = 0; i < pieces.length; i++) {
            ids.put(pieces[i], i);
        }
    }

    int size() {
        return pieces.length;
    }

    /** The id of a piece, or -1. */
    int id(String piece) {
        Integer id = ids.get(piece);
        return id == null ? -1 : id;
    }

    String piece(int id) {
        checkId(id);
        return pieces[id];
    }

    TokenType type(int id) {
        return types[id];
    }

    boolean isSpecial(int id) {
        return types[id].special();
    }

    /** Decoded bytes; shared array, callers must not modify it. */
    byte[] bytes(int id) {
        return bytes[id];
    }

    void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new PagodaException("token id " + id + " is outside the vocabulary (size " + pieces.length + ")");
        }
    }

    /** The id of SentencePiece's byte token {@code <0xNN>} for each byte, -1 where the vocabulary lacks one. */
    int[] byteTokens() {
        int[] table = new int[256];
        for (int b = 0; b < 256; b++) {
            table[b] = id(String.format("<0x%02X>", b));
        }
        return table;
    }
}
