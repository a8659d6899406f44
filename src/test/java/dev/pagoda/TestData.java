package dev.pagoda;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the shared fixtures (models, tokenizer vectors, golden outputs). One setting:
 * system property {@code pagoda.testData} or env {@code PAGODA_TEST_DATA}, default {@code ../shared}.
 * A missing fixture fails the test: in CI the fixtures must be present, never skipped.
 */
public final class TestData {
    private TestData() {
    }

    public static Path root() {
        String p = System.getProperty("pagoda.testData");
        if (p == null || p.isBlank()) {
            p = System.getenv("PAGODA_TEST_DATA");
        }
        if (p == null || p.isBlank()) {
            p = "../shared";
        }
        return Path.of(p).toAbsolutePath().normalize();
    }

    public static Path path(String relative) {
        Path f = root().resolve(relative);
        if (!Files.exists(f)) {
            throw new AssertionError("missing test fixture " + f + " (set PAGODA_TEST_DATA to the shared folder)");
        }
        return f;
    }

    /** A scratch folder under target/ for files a test writes. */
    public static Path scratch(String name) {
        try {
            Path d = Path.of("target", "scratch", name).toAbsolutePath();
            Files.createDirectories(d);
            return d;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
