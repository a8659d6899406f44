package dev.pagoda.model;

import dev.pagoda.PagodaException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds and opens a model by file, folder or short name.
 *
 * <p>A short name is looked up as a file or folder in the model folders, in order: {@code $PAGODA_MODELS}
 * (a path list), {@code ./models}, {@code ../shared/models} (relative to the working directory and to the
 * Pagoda checkout), and one folder level below them. A folder holding {@code config.json} is a Hugging Face model; otherwise the folder's
 * model file is {@code <folder>.bin} (llama2.c, the trained context) or {@code <folder>.gguf}, or the single
 * .gguf/.bin file in it. A {@code synth:} spec is built in memory by {@link SyntheticModelBuilder}.
 */
public final class ModelLoader {
    public static final String DEFAULT_MODEL = "stories260K";

    private ModelLoader() {
    }

    /** Opens a model by file, folder or short name, or builds the synthetic model a {@code synth:SHAPE:DTYPE[:SEED]} spec names. */
    public static Model load(String spec) {
        if (SyntheticModelBuilder.isSpec(spec)) {
            return SyntheticModelBuilder.fromSpec(spec);
        }
        return open(resolve(spec));
    }

    public static Model open(Path path) {
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve("config.json"))) {
                return HuggingFaceLoader.load(path);
            }
            return open(modelFileIn(path));
        }
        if (!Files.isRegularFile(path)) {
            throw new PagodaException(path + ": no such model file or folder");
        }
        String name = path.getFileName().toString().toLowerCase();
        if (name.endsWith(".gguf")) {
            return GgufLoader.load(path);
        }
        if (name.endsWith(".bin")) {
            return Llama2cLoader.load(path);
        }
        if (name.equals("config.json")) {
            return HuggingFaceLoader.load(path.toAbsolutePath().getParent());
        }
        throw new PagodaException(path + ": unknown model format (expected .gguf, llama2.c .bin, or a Hugging Face folder)");
    }

    /** The model file or folder a spec names: an existing path, or a short name in the model folders. */
    public static Path resolve(String spec) {
        return find(spec).orElseThrow(() -> new PagodaException("model '" + spec + "' not found: not a file or folder, and not in " + modelFolders()));
    }

    /** Like {@link #resolve}, empty when the spec names nothing local (the caller may look elsewhere). */
    public static Optional<Path> find(String spec) {
        Path direct = Path.of(spec);
        if (Files.exists(direct)) {
            return Optional.of(direct);
        }
        for (Path dir : modelFolders()) {
            Path found = lookIn(dir, spec);
            if (found == null && Files.isDirectory(dir)) {
                // One level down too: models/stories260K/stories260K.gguf answers to "stories260K.gguf".
                try (Stream<Path> subs = Files.list(dir)) {
                    found = subs.filter(Files::isDirectory).sorted().map(d -> lookIn(d, spec)).filter(p -> p != null).findFirst().orElse(null);
                } catch (IOException e) {
                    throw new PagodaException(dir + ": cannot list model folder: " + e.getMessage());
                }
            }
            if (found != null) {
                return Optional.of(found);
            }
        }
        return Optional.empty();
    }

    private static Path lookIn(Path dir, String spec) {
        for (String candidate : new String[] {spec, spec + ".gguf", spec + ".bin"}) {
            Path p = dir.resolve(candidate);
            if (Files.exists(p)) {
                return p;
            }
        }
        return null;
    }

    static List<Path> modelFolders() {
        List<Path> dirs = new ArrayList<>();
        String env = System.getenv("PAGODA_MODELS");
        if (env != null && !env.isBlank()) {
            for (String p : env.split(File.pathSeparator)) {
                if (!p.isBlank()) {
                    dirs.add(Path.of(p));
                }
            }
        }
        dirs.add(Path.of("models"));
        dirs.add(Path.of("..", "shared", "models"));
        String root = System.getProperty("pagoda.root");
        if (root != null) {
            dirs.add(Path.of(root, "models"));
            dirs.add(Path.of(root, "..", "shared", "models"));
        }
        String testData = System.getenv("PAGODA_TEST_DATA");
        if (testData != null && !testData.isBlank()) {
            dirs.add(Path.of(testData, "models"));
        }
        return dirs.stream().map(p -> p.toAbsolutePath().normalize()).distinct().toList();
    }

    private static Path modelFileIn(Path dir) {
        String base = dir.getFileName().toString();
        for (String ext : new String[] {".bin", ".gguf"}) {
            Path p = dir.resolve(base + ext);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        List<Path> candidates;
        try (Stream<Path> s = Files.list(dir)) {
            candidates = s.filter(p -> {
                String n = p.getFileName().toString().toLowerCase();
                return n.endsWith(".gguf") || (n.endsWith(".bin") && !n.startsWith("tok"));
            }).sorted().toList();
        } catch (IOException e) {
            throw new PagodaException(dir + ": cannot list model folder: " + e.getMessage());
        }
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        throw new PagodaException(dir + ": " + (candidates.isEmpty() ? "no model file (.gguf, .bin) or config.json"
                : "several model files, name one: " + candidates.stream().map(p -> p.getFileName().toString()).toList()));
    }
}
