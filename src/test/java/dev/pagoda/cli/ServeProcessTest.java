package dev.pagoda.cli;

import dev.pagoda.TestData;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code pagoda serve} as a process: SIGTERM lets a running stream finish, then the process exits 0. */
class ServeProcessTest {

    @Test
    void sigtermDrainsRunningStreamsAndExitsZero() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), PagodaCli.class.getName(), "serve",
                "--model", TestData.path("models/stories260K/stories260K.bin").toString(), "--port", "0",
                "--max-model-len", "256", "--kv-cache-memory", "4MiB", "--shutdown-timeout", "60"));
        Path log = TestData.scratch("serve-process").resolve("serve.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Pattern listening = Pattern.compile("on (http://127\\.0\\.0\\.1:\\d+)/v1");
            String base = null;
            while (base == null && p.isAlive()) {
                Matcher m = listening.matcher(Files.readString(log));
                if (m.find()) {
                    base = m.group(1);
                } else {
                    Thread.sleep(50);
                }
            }
            assertThat(base).as(Files.readString(log)).isNotNull();
            HttpResponse<java.util.stream.Stream<String>> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(base + "/v1/completions")).POST(HttpRequest.BodyPublishers.ofString(
                    "{\"prompt\": \"Once upon a time\", \"max_tokens\": 40, \"ignore_eos\": true, \"stream\": true}")).build(),
                    HttpResponse.BodyHandlers.ofLines());
            Iterator<String> lines = r.body().iterator();
            assertThat(lines.next()).startsWith("data: ");
            p.destroy();  // SIGTERM
            StringBuilder rest = new StringBuilder();
            lines.forEachRemaining(l -> rest.append(l).append('\n'));
            assertThat(rest.toString()).endsWith("data: [DONE]\n\n");
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(log)).isZero();
            assertThat(Files.readString(log)).contains("pagoda serve: stopped")
                    .contains("[access] request_id=").contains(" route=\"POST /v1/completions\" status=200 ");
        } finally {
            p.destroyForcibly();
        }
    }
}
