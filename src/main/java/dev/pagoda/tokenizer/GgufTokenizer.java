package dev.pagoda.tokenizer;

import dev.pagoda.PagodaException;
import dev.pagoda.format.gguf.GgufFile;

/** Builds a tokenizer from a GGUF file's {@code tokenizer.ggml.*} metadata. */
final class GgufTokenizer {
    private static final String MODEL = "tokenizer.ggml.model";

    private GgufTokenizer() {
    }

    static Tokenizer load(GgufFile gguf) {
        String file = gguf.path().toString();
        if (!gguf.has(MODEL)) {
            throw new PagodaException("GGUF file " + file + " has no tokenizer (" + MODEL + " is missing)");
        }
        String model = gguf.getString(MODEL);
        String[] pieces = gguf.getStringArray("tokenizer.ggml.tokens");
        int[] typeCodes = gguf.getIntArray("tokenizer.ggml.token_type", null);
        if (typeCodes != null && typeCodes.length != pieces.length) {
            throw new PagodaException("GGUF file " + file + ": tokenizer.ggml.token_type has " + typeCodes.length
                    + " entries for " + pieces.length + " tokens");
        }
        TokenType[] types = new TokenType[pieces.length];
        for (int i = 0; i < pieces.length; i++) {
            types[i] = typeCodes != null ? TokenType.ofGguf(typeCodes[i]) : TokenType.NORMAL;
        }
        return switch (model) {
            case "llama" -> sentencePiece(gguf, file, pieces, types);
            case "gpt2" -> byteLevel(gguf, file, pieces, types);
            case "bert" -> wordPiece(gguf, pieces, types);
            default -> throw new PagodaException("unsupported tokenizer model '" + model + "' (" + MODEL + ") in " + file);
        };
    }

    private static Tokenizer sentencePiece(GgufFile gguf, String file, String[] pieces, TokenType[] types) {
        float[] scores = gguf.getFloatArray("tokenizer.ggml.scores", new float[pieces.length]);
        if (scores.length != pieces.length) {
            throw new PagodaException("GGUF file " + file + ": tokenizer.ggml.scores has " + scores.length
                    + " entries for " + pieces.length + " tokens");
        }
        Vocabulary vocab = new Vocabulary(pieces, types,
                SentencePieceBpe.decodedBytes(pieces, types, SentencePieceBpe.SPACE_MARKER));
        return new SentencePieceBpe(vocab, scores, SentencePieceBpe.SPACE_MARKER,
                id(gguf, "tokenizer.ggml.bos_token_id", 1, pieces), id(gguf, "tokenizer.ggml.eos_token_id", 2, pieces),
                id(gguf, "tokenizer.ggml.unknown_token_id", 0, pieces),
                gguf.getBool("tokenizer.ggml.add_bos_token", true), gguf.getBool("tokenizer.ggml.add_eos_token", false),
                gguf.getBool("tokenizer.ggml.add_space_prefix", true));
    }

    private static Tokenizer byteLevel(GgufFile gguf, String file, String[] pieces, TokenType[] types) {
        String pre = gguf.getString("tokenizer.ggml.pre", "default");
        Vocabulary vocab = new Vocabulary(pieces, types, ByteLevelBpe.decodedBytes(pieces, types));
        return new ByteLevelBpe(vocab, gguf.getStringArray("tokenizer.ggml.merges"), PreTokenizer.forGguf(pre, file),
                id(gguf, "tokenizer.ggml.bos_token_id", -1, pieces), id(gguf, "tokenizer.ggml.eos_token_id", -1, pieces),
                gguf.getBool("tokenizer.ggml.add_bos_token", false), gguf.getBool("tokenizer.ggml.add_eos_token", false),
                pre.equals("llama-bpe") || pre.equals("llama3"));
    }

    private static Tokenizer wordPiece(GgufFile gguf, String[] pieces, TokenType[] types) {
        Vocabulary vocab = new Vocabulary(pieces, types,
                SentencePieceBpe.decodedBytes(pieces, types, SentencePieceBpe.SPACE_MARKER));
        return new WordPiece(vocab, id(gguf, "tokenizer.ggml.cls_token_id", 101, pieces),
                id(gguf, "tokenizer.ggml.seperator_token_id", 102, pieces),
                id(gguf, "tokenizer.ggml.unknown_token_id", 100, pieces));
    }

    /** A special token id from the metadata (or the family default); -1 when outside the vocabulary. */
    private static int id(GgufFile gguf, String key, int dflt, String[] pieces) {
        long id = gguf.getLong(key, dflt);
        return id >= 0 && id < pieces.length ? (int) id : -1;
    }
}
