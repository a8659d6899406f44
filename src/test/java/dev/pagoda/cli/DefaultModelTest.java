package dev.pagoda.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The README's first command on a fresh clone: the default model ships in the repository, so {@code pagoda generate}
 * works in a copy of it with no {@code ../shared} beside it and no {@code PAGODA_TEST_DATA}.
 */
class DefaultModelTest {

    @Test
    void generateWorksInACopyOfTheRepositoryWithNothingElse() throws Exception {
        Path clone = Files.createTempDirectory("pagoda-fresh-clone").resolve("pagoda");
        Path models = clone.resolve("models/stories260K");
        Files.createDirectories(models);
        try (var files = Files.list(Path.of("models/stories260K"))) {
            for (Path f : files.toList()) {
                Files.copy(f, models.resolve(f.getFileName()));
            }
        }
        assertThat(clone.resolveSibling("shared")).doesNotExist();
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dpagoda.root=" + clone, "-cp", System.getProperty("java.class.path"), PagodaCli.class.getName(),
                "generate", "--max-tokens", "60", "Once upon a time"))
                .directory(clone.toFile());
        pb.environment().remove("PAGODA_TEST_DATA");
        pb.environment().remove("PAGODA_MODELS");
        Path err = clone.resolve("stderr.txt");
        Process p = pb.redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(read(err)).isZero();
        assertThat(out).startsWith(CliTest.STORY_60);
        assertThat(read(err)).contains("generated tokens: 60");
    }

    private static String read(Path f) throws IOException {
        return Files.readString(f);
    }
}
