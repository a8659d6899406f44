package dev.pagoda;

/**
 * An error caused by the user's input (a model file, an option, a prompt), as opposed to a bug.
 * The CLI prints its message as one line and exits with code 2; the server maps it to HTTP 400.
 * Messages name what is wrong and, where there is one, the file.
 */
public class PagodaException extends RuntimeException {
    public PagodaException(String message) {
        super(message);
    }

    public PagodaException(String message, Throwable cause) {
        super(message, cause);
    }
}
