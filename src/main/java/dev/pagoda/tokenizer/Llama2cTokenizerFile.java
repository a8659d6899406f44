package dev.pagoda.tokenizer;

import dev.pagoda.PagodaException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * llama2.c's tokenizer file ({@code tokenizer.bin}, {@code tok512.bin}), little-endian: uint32 max_token_length,
 * then per token float32 score, int32 length, that many UTF-8 bytes, up to the end of the file. Ids 0, 1, 2 are
 * unknown, BOS and EOS; {@code <0xNN>} pieces are byte tokens; the SentencePiece space marker is stored as a plain space.
 */
final class Llama2cTokenizerFile {
    private static final int BOS = 1;
    private static final int EOS = 2;
    private static final int UNK = 0;

    private Llama2cTokenizerFile() {
    }

    static SentencePieceBpe load(Path file) {
        ByteBuffer buf;
        try {
            buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new PagodaException("cannot read tokenizer file " + file + ": " + e.getMessage(), e);
        }
        if (buf.remaining() < 4) {
            throw corrupt(file, "shorter than its 4-byte header");
        }
        int maxTokenLength = buf.getInt();
        if (maxTokenLength <= 0 || maxTokenLength > 1 << 16) {
            throw corrupt(file, "max_token_length " + Integer.toUnsignedString(maxTokenLength) + " is not plausible");
        }
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (buf.hasRemaining()) {
            int id = pieces.size();
            if (buf.remaining() < 8) {
                throw corrupt(file, "token " + id + " is truncated");
            }
            float score = buf.getFloat();
            int len = buf.getInt();
            if (len < 0 || len > maxTokenLength || len > buf.remaining() || !Float.isFinite(score)) {
                throw corrupt(file, "token " + id + " has length " + len + " (max " + maxTokenLength + ", "
                        + buf.remaining() + " bytes left) or score " + score);
            }
            try {
                pieces.add(decoder.decode(buf.slice(buf.position(), len)).toString());
            } catch (CharacterCodingException e) {
                throw corrupt(file, "token " + id + " is not valid UTF-8");
            }
            buf.position(buf.position() + len);
            scores.add(score);
        }
        if (pieces.size() <= EOS) {
            throw corrupt(file, "holds only " + pieces.size() + " tokens");
        }
        String[] p = pieces.toArray(String[]::new);
        float[] s = new float[p.length];
        TokenType[] types = new TokenType[p.length];
        for (int i = 0; i < p.length; i++) {
            s[i] = scores.get(i);
            types[i] = i == UNK ? TokenType.UNKNOWN
                    : i == BOS || i == EOS ? TokenType.CONTROL
                    : SentencePieceBpe.byteValue(p[i]) >= 0 ? TokenType.BYTE : TokenType.NORMAL;
        }
        Vocabulary vocab = new Vocabulary(p, types, SentencePieceBpe.decodedBytes(p, types, ' '));
        return new SentencePieceBpe(vocab, s, ' ', BOS, EOS, UNK, true, false, true);
    }

    private static PagodaException corrupt(Path file, String what) {
        return new PagodaException("llama2.c tokenizer file " + file + " is corrupt: " + what);
    }
}
