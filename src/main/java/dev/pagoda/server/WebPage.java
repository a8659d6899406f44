package dev.pagoda.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The server's one web page ({@code GET /}): the KV block map, the engine dashboard and a chat playground, in one
 * HTML file bundled in the jar (its script and styles inline; nothing fetched from elsewhere, which its content
 * security policy enforces). The page itself is public; it asks for the API key and sends it with every call.
 */
final class WebPage {
    private static final String RESOURCE = "pagoda.html";
    private static final String POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            + "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    private final String html;

    WebPage() {
        try (InputStream in = WebPage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the web page " + RESOURCE + " is missing from the jar");
            }
            html = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void serve(Exchange ex) throws IOException {
        ex.responseHeader("Cache-Control", "no-cache");
        ex.responseHeader("Content-Security-Policy", POLICY);
        ex.responseHeader("X-Content-Type-Options", "nosniff");
        ex.responseHeader("Referrer-Policy", "no-referrer");
        HttpIo.send(ex, 200, "text/html; charset=utf-8", html);
    }
}
