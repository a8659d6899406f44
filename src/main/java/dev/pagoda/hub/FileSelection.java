package dev.pagoda.hub;

import dev.pagoda.PagodaException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which files of a repo make the model a spec names. A Hugging Face folder is its config, tokenizer,
 * generation config and safetensors weights (with their index), at the top level: not the other formats
 * (.bin, .onnx, .gguf) many repos also carry. A {@code :FILE_OR_QUANT} suffix names one file by its path or the
 * one GGUF file whose name contains it (case-insensitive, as a whole word between '-' or '.' first); more than
 * one match is refused, never guessed.
 */
final class FileSelection {
    private static final Set<String> FOLDER_FILES = Set.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json", "added_tokens.json", "vocab.json",
            "merges.txt", "chat_template.jinja");

    private FileSelection() {
    }

    /** The files to download for a spec, from the repo's file list. */
    static List<String> forPull(RepoSpec spec, List<String> siblings) {
        if (spec.file() != null) {
            return List.of(pick(spec, siblings).orElseThrow(() -> new PagodaException(spec.repo() + " has no file named '"
                    + spec.file() + "' and no GGUF file whose name contains it" + listing(ggufs(siblings)))));
        }
        if (siblings.contains("config.json")) {
            List<String> files = siblings.stream().filter(f -> !f.contains("/")).filter(f -> FOLDER_FILES.contains(f)
                    || f.endsWith(".safetensors") || f.endsWith(".safetensors.index.json")).sorted().toList();
            if (files.stream().noneMatch(f -> f.endsWith(".safetensors"))) {
                throw new PagodaException(spec.repo() + " has no .safetensors weights (Pagoda loads safetensors folders and GGUF files)");
            }
            return files;
        }
        List<String> ggufs = ggufs(siblings);
        if (ggufs.size() == 1) {
            return ggufs;
        }
        throw new PagodaException(ggufs.isEmpty() ? spec.repo() + " has neither a config.json nor a .gguf file: not a model Pagoda loads"
                : spec.repo() + " has " + ggufs.size() + " GGUF files: pick one with " + spec.repo() + ":QUANT (e.g. :Q4_K_M) or "
                        + spec.repo() + ":FILE" + listing(ggufs));
    }

    /** The file {@code spec.file()} names among {@code files}: the exact path, else the only GGUF containing it. */
    static Optional<String> pick(RepoSpec spec, List<String> files) {
        if (files.contains(spec.file())) {
            return Optional.of(spec.file());
        }
        String quant = spec.file().toLowerCase(Locale.ROOT);
        List<String> containing = ggufs(files).stream().filter(f -> baseName(f).toLowerCase(Locale.ROOT).contains(quant)).toList();
        // A quant as a whole word wins: Q4_0 picks model-Q4_0.gguf, not model-Q4_0_4_4.gguf beside it.
        Pattern word = Pattern.compile("(^|[-.])" + Pattern.quote(quant) + "([-.]|$)");
        List<String> whole = containing.stream().filter(f -> word.matcher(baseName(f).toLowerCase(Locale.ROOT).replaceFirst("\\.gguf$", "")).find()).toList();
        List<String> matches = whole.isEmpty() ? containing : whole;
        if (matches.size() > 1) {
            throw new PagodaException("'" + spec.file() + "' matches " + matches.size() + " files of " + spec.repo()
                    + ", name one exactly as " + spec.repo() + ":FILE" + listing(matches));
        }
        return matches.stream().findFirst();
    }

    private static List<String> ggufs(List<String> files) {
        return files.stream().filter(f -> f.toLowerCase(Locale.ROOT).endsWith(".gguf")).sorted().toList();
    }

    private static String baseName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static String listing(List<String> files) {
        return files.isEmpty() ? "" : ": " + String.join(", ", files);
    }
}
