package dev.pagoda;

/** A request parameter out of range or of the wrong kind; {@code param} is its API name (OpenAI/vLLM). */
public class InvalidParameterException extends PagodaException {
    private final String param;

    public InvalidParameterException(String param, String message) {
        super(message);
        this.param = param;
    }

    public String param() {
        return param;
    }
}
