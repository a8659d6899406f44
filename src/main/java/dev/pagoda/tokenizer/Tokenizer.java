package dev.pagoda.tokenizer;

/**
 * Text to token ids and back. Implementations are immutable and safe to share between threads;
 * a {@link Detokenizer} is per sequence.
 */
public interface Tokenizer {
    /**
     * Encodes text.
     *
     * @param addSpecial   add BOS/EOS as the model's rules say (its add_bos/add_eos flags)
     * @param parseSpecial special-token text in the input (e.g. {@code <|endoftext|>}) becomes that token;
     *                     when false it is tokenized as plain text
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    int vocabSize();

    int bosId();

    /** The end-of-sequence id, or -1 if the vocabulary has none. */
    int eosId();

    /** Control tokens (BOS, EOS, unknown, chat markers): dropped by decoding with skipSpecial. */
    boolean isSpecial(int id);

    /** The vocabulary entry as stored (SentencePiece pieces keep U+2581, byte-level pieces their mapped form). */
    String piece(int id);

    /** The bytes this token decodes to (not counting the leading-space rule of a sequence's first piece). */
    byte[] tokenBytes(int id);

    /** Decodes a whole sequence: same result as feeding every id to a new detokenizer and flushing. */
    String decode(int[] ids, boolean skipSpecial);

    /** An incremental decoder for one sequence of generated tokens. */
    Detokenizer newDetokenizer(boolean skipSpecial);
}
