package dev.pagoda.engine;

/** Why a sequence stopped, with OpenAI's names. */
public enum FinishReason {
    /** A stop token (EOS) was generated. */
    STOP,
    /** max_tokens or the context length was reached. */
    LENGTH,
    /** The request was aborted (client gone, or cancelled). */
    ABORT;

    public String openAiName() {
        return name().toLowerCase();
    }
}
