package dev.pagoda.server;

/**
 * Why the server refused a request or a connection: the {@code reason} label of
 * {@code pagoda:requests_rejected_total}, so an operator sees timeouts, oversize and overload apart.
 */
enum Rejection {
    /** The waiting queue is full now (503, Retry-After). */
    QUEUE_FULL("queue_full"),
    /** The server is draining for shutdown (503). */
    DRAINING("draining"),
    /** More prompts in one request than may ever wait at once (400). */
    TOO_MANY_PROMPTS("too_many_prompts"),
    /** A body over the body limit (413). */
    BODY_TOO_LARGE("body_too_large"),
    /** A prompt that cannot fit the context, refused before or after tokenizing (400). */
    PROMPT_TOO_LONG("prompt_too_long"),
    /** A request line or headers over the header limit (431). */
    HEADER_TOO_LARGE("header_too_large"),
    /** Headers not complete within the header timeout (connection closed). */
    HEADER_TIMEOUT("header_timeout"),
    /** Body not complete within the body timeout (408, connection closed). */
    BODY_TIMEOUT("body_timeout"),
    /** Connections over the open-connection cap (503, closed at once). */
    TOO_MANY_CONNECTIONS("too_many_connections");

    private final String label;

    Rejection(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }
}
