package dev.pagoda.server;

import java.net.Socket;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The server's HTTP/1.1 layer on raw sockets: keep-alive, chunked bodies, 100-continue, and malformed requests. */
class HttpConnectionTest {
    @Test
    void keepAliveCarriesRequestsOneAfterAnother() throws Exception {
        try (ServerFixture fx = ServerFixture.start(); Socket s = RawHttp.connect(fx.server.port())) {
            RawHttp.send(s, "GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + RawHttp.post("/tokenize", "{\"prompt\": \"Hi\"}")
                    + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            String all = RawHttp.readToClose(s);
            assertThat(all.split("HTTP/1.1 200 OK", -1)).hasSize(4);
            assertThat(all).contains("\"version\"").contains("\"tokens\"");
        }
    }

    @Test
    void chunkedBodyWithExpectContinue() throws Exception {
        String json = "{\"prompt\": \"Once upon a time\", \"max_tokens\": 3}";
        try (ServerFixture fx = ServerFixture.start(); Socket s = RawHttp.connect(fx.server.port())) {
            RawHttp.send(s, "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n"
                    + "Connection: close\r\n\r\n");
            assertThat(RawHttp.readUntil(s, "\r\n\r\n")).startsWith("HTTP/1.1 100 Continue");
            int half = json.length() / 2;
            RawHttp.send(s, Integer.toHexString(half) + "\r\n" + json.substring(0, half) + "\r\n"
                    + Integer.toHexString(json.length() - half) + ";ext=1\r\n" + json.substring(half) + "\r\n0\r\n\r\n");
            String answer = RawHttp.readToClose(s);
            assertThat(answer).startsWith("HTTP/1.1 200 OK").contains("\"text_completion\"");
        }
    }

    @Test
    void malformedRequestsAreAnsweredAndClosed() throws Exception {
        try (ServerFixture fx = ServerFixture.start()) {
            malformed(fx);
        }
    }

    private static void malformed(ServerFixture fx) throws Exception {
        try (Socket s = RawHttp.connect(fx.server.port())) {
            RawHttp.send(s, "NONSENSE\r\n\r\n");
            assertThat(RawHttp.readToClose(s)).startsWith("HTTP/1.1 400 ");
        }
        try (Socket s = RawHttp.connect(fx.server.port())) {
            RawHttp.send(s, "GET /health HTTP/1.1\r\nX-Big: " + "a".repeat(70_000) + "\r\n\r\n");
            assertThat(RawHttp.readToClose(s)).startsWith("HTTP/1.1 431 ");
        }
        try (Socket s = RawHttp.connect(fx.server.port())) {
            RawHttp.send(s, "POST /tokenize HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
            assertThat(RawHttp.readToClose(s)).startsWith("HTTP/1.1 501 ");
        }
        try (Socket s = RawHttp.connect(fx.server.port())) {
            RawHttp.send(s, "POST /tokenize HTTP/1.1\r\nContent-Length: abc\r\n\r\n");
            assertThat(RawHttp.readToClose(s)).startsWith("HTTP/1.1 400 ").contains("Content-Length");
        }
        // An error before the body was read ends the connection (the rest of the body would be misread), and says so.
        try (Socket s = RawHttp.connect(fx.server.port())) {
            RawHttp.send(s, "POST /v1/nothing HTTP/1.1\r\nContent-Length: 10\r\n\r\n");
            assertThat(RawHttp.readToClose(s)).startsWith("HTTP/1.1 404 ").contains("Connection: close");
        }
    }
}
