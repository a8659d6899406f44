package dev.pagoda.hub;

import dev.pagoda.PagodaException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The hub's cache layout, shared with {@code huggingface_hub} (and so with {@code huggingface-cli} and vLLM):
 * {@code models--ORG--NAME/blobs/ETAG} holds each file's content once, named by its git blob id or LFS sha256;
 * {@code snapshots/COMMIT/PATH} links to the blob, one folder per commit; {@code refs/REVISION} holds the commit
 * a branch or tag pointed to when last pulled. A snapshot file exists only once its blob is complete and
 * verified, so its presence means the file is there.
 */
public final class HubCache {
    private final Path root;

    public HubCache(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    Path repoDir(String repo) {
        return root.resolve("models--" + repo.replace("/", "--"));
    }

    Path blob(String repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(etag);
    }

    /** Where a blob is written until it is complete and verified (a later pull resumes it). */
    Path incomplete(String repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(etag + ".incomplete");
    }

    Path snapshot(String repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(commit);
    }

    /** The commit a revision names in the cache: refs/REVISION, or the revision itself when it is a cached commit. */
    Optional<String> commit(String repo, String revision) {
        Path ref = repoDir(repo).resolve("refs").resolve(checkedRevision(revision));
        try {
            if (Files.isRegularFile(ref)) {
                return Optional.of(Files.readString(ref).strip());
            }
        } catch (IOException e) {
            throw new PagodaException(ref + ": cannot read: " + e.getMessage());
        }
        return revision.matches("[0-9a-f]{40}") && Files.isDirectory(snapshot(repo, revision)) ? Optional.of(revision) : Optional.empty();
    }

    void writeRef(String repo, String revision, String commit) throws IOException {
        if (!revision.equals(commit)) {
            Path ref = repoDir(repo).resolve("refs").resolve(checkedRevision(revision));
            Files.createDirectories(ref.getParent());
            Files.writeString(ref, commit);
        }
    }

    /** Makes snapshots/COMMIT/PATH point to the blob: a relative link, or a copy where links are not supported. */
    void link(String repo, String commit, String file, String etag) throws IOException {
        Path blob = blob(repo, etag);
        Path target = snapshot(repo, commit).resolve(file);
        Files.createDirectories(target.getParent());
        Files.deleteIfExists(target);
        try {
            Files.createSymbolicLink(target, target.getParent().relativize(blob));
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(blob, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * The cached model a spec names at a revision: the snapshot folder, or the file that {@code spec.file()} picks
     * in it; empty when not cached. Never touches the network.
     */
    public Optional<Path> find(RepoSpec spec, String revision) {
        Optional<Path> snapshot = commit(spec.repo(), revision).map(c -> snapshot(spec.repo(), c)).filter(Files::isDirectory);
        if (snapshot.isEmpty() || spec.file() == null) {
            return snapshot;
        }
        Path dir = snapshot.get();
        List<String> files;
        try (Stream<Path> all = Files.walk(dir)) {
            files = all.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/')).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return FileSelection.pick(spec, files).map(dir::resolve);
    }

    /** Revisions name refs files under refs/, so one that climbs out of it is refused. */
    private static String checkedRevision(String revision) {
        if (revision.isBlank() || revision.contains("..") || revision.startsWith("/") || revision.contains("\\")) {
            throw new PagodaException("bad revision '" + revision + "': expected a branch, tag or commit id");
        }
        return revision;
    }
}
