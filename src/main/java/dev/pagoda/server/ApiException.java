package dev.pagoda.server;

/**
 * A request the server answers with an OpenAI error body {@code {"error": {"message", "type", "param", "code"}}}
 * and an HTTP status. Thrown by request handling, turned into a response by {@link OpenAiServer}.
 */
final class ApiException extends RuntimeException {
    final int status;
    final String type;
    final String param;
    final String code;
    /** Seconds for a Retry-After header, or 0 for none. */
    final int retryAfterSeconds;
    /** The limit that refused the request (counted in /metrics by reason), or null for other errors. */
    final Rejection rejection;

    ApiException(int status, String type, String message, String param, String code, int retryAfterSeconds) {
        this(status, type, message, param, code, retryAfterSeconds, null);
    }

    private ApiException(int status, String type, String message, String param, String code, int retryAfterSeconds, Rejection rejection) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
        this.rejection = rejection;
    }

    static ApiException badRequest(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, null, 0);
    }

    static ApiException unauthorized() {
        return new ApiException(401, "invalid_request_error", "Incorrect API key provided.", null, "invalid_api_key", 0);
    }

    static ApiException notFound(String message, String param, String code) {
        return new ApiException(404, "invalid_request_error", message, param, code, 0);
    }

    static ApiException methodNotAllowed(String method, String path) {
        return new ApiException(405, "invalid_request_error", method + " is not allowed on " + path, null, null, 0);
    }

    static ApiException tooLarge(long limit) {
        return new ApiException(413, "invalid_request_error", "the request body exceeds the limit of " + limit + " bytes "
                + "(see --max-body-size)", null, "request_too_large", 0, Rejection.BODY_TOO_LARGE);
    }

    /** A prompt that cannot fit the context (400 naming {@code param}). */
    static ApiException promptTooLong(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, null, 0, Rejection.PROMPT_TOO_LONG);
    }

    /** A request that can never be admitted, however idle the server (400: retrying cannot help). */
    static ApiException neverAdmitted(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, null, 0, Rejection.TOO_MANY_PROMPTS);
    }

    /** 503 with Retry-After: the server cannot take the request now ({@code why}: queue full or draining). */
    static ApiException overloaded(String message, int retryAfterSeconds, Rejection why) {
        return new ApiException(503, "server_error", message, null, "server_overloaded", retryAfterSeconds, why);
    }
}
