package dev.pagoda.server;

import java.io.IOException;

/** A client did not send its request within the phase's time limit; {@code reason} is null for an idle keep-alive connection. */
final class ReadTimeoutException extends IOException {
    final Rejection reason;

    ReadTimeoutException(Rejection reason) {
        super(reason == null ? "idle" : reason.label());
        this.reason = reason;
    }
}
