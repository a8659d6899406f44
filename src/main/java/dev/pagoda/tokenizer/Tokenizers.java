package dev.pagoda.tokenizer;

import java.nio.file.Path;

/** Loads a tokenizer from each supported source. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /** llama2.c's {@code tokenizer.bin} format (e.g. {@code tok512.bin}). */
    public static Tokenizer fromLlama2c(Path tokenizerBin) {
        return Llama2cTokenizerFile.load(tokenizerBin);
    }
}
