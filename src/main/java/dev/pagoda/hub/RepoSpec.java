package dev.pagoda.hub;

import dev.pagoda.PagodaException;
import java.util.regex.Pattern;

/**
 * A model on the hub as a user names it: {@code ORG/NAME} (a whole model folder, or the repo's only GGUF file),
 * or {@code ORG/NAME:FILE_OR_QUANT} (one file by its path, or the GGUF file whose name contains the quant, e.g.
 * {@code Q4_K_M}).
 *
 * @param file the file path or quant after the colon, or null
 */
public record RepoSpec(String repo, String file) {
    private static final Pattern REPO = Pattern.compile("[A-Za-z0-9][\\w.-]*/[A-Za-z0-9][\\w.-]*");

    /** Parses a spec; null when it is not shaped like a repo id (so a local name is never taken for one). */
    public static RepoSpec parseOrNull(String spec) {
        int colon = spec.indexOf(':');
        String repo = colon < 0 ? spec : spec.substring(0, colon);
        String file = colon < 0 ? null : spec.substring(colon + 1);
        if (!REPO.matcher(repo).matches() || repo.contains("..") || repo.contains("--") || (file != null && file.isBlank())) {
            return null;
        }
        return new RepoSpec(repo, file);
    }

    public static RepoSpec parse(String spec) {
        RepoSpec s = parseOrNull(spec);
        if (s == null) {
            throw new PagodaException("'" + spec + "' is not a Hugging Face model id: expected ORG/NAME or ORG/NAME:FILE_OR_QUANT");
        }
        return s;
    }

    @Override
    public String toString() {
        return file == null ? repo : repo + ":" + file;
    }
}
