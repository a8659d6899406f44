package dev.pagoda.server;

import java.io.IOException;

/** A request line or header section longer than the server reads (answered 431). */
final class HeaderTooLargeException extends IOException {
    HeaderTooLargeException() {
        super("the request header is too large");
    }
}
