package dev.pagoda.tokenizer;

/** Token kinds, numbered as GGUF's {@code tokenizer.ggml.token_type} (llama.cpp's llama_token_type). */
enum TokenType {
    UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    private static final TokenType[] BY_CODE = values();

    static TokenType ofGguf(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : NORMAL;
    }

    /** Skipped by decoding with skipSpecial (llama.cpp leaves out UNKNOWN and CONTROL pieces likewise). */
    boolean special() {
        return this == CONTROL || this == UNKNOWN;
    }

    /** Matched as a whole in the input before the model runs: always for user-defined, with parseSpecial for the rest. */
    boolean splitsInput(boolean parseSpecial) {
        return this == USER_DEFINED || (parseSpecial && special());
    }
}
