package dev.pagoda.tokenizer;

import dev.pagoda.format.gguf.GgufFile;

import java.nio.file.Path;

/** Loads a tokenizer from each supported source. */
public final class Tokenizers {
    private Tokenizers() {
    }

    /** llama2.c's {@code tokenizer.bin} format (e.g. {@code tok512.bin}). */
    public static Tokenizer fromLlama2c(Path tokenizerBin) {
        return Llama2cTokenizerFile.load(tokenizerBin);
    }

    /** The tokenizer in a GGUF file's metadata ({@code tokenizer.ggml.model} llama, gpt2 or bert). */
    public static Tokenizer fromGguf(GgufFile gguf) {
        return GgufTokenizer.load(gguf);
    }

    /**
     * A Hugging Face {@code tokenizer.json} (BPE model), with {@code tokenizer_config.json} beside it when present.
     *
     * @param folder the model folder, or the tokenizer.json file itself
     */
    public static Tokenizer fromHuggingFace(Path folder) {
        return HuggingFaceTokenizerFile.load(folder);
    }
}
