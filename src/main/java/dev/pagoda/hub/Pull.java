package dev.pagoda.hub;

import dev.pagoda.PagodaException;
import dev.pagoda.hub.HubClient.FileMetadata;
import dev.pagoda.hub.HubClient.RepoInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Brings a model from the hub into the cache: the repo's commit at the revision, the files the spec selects
 * ({@link FileSelection}), each blob downloaded once by a bounded pool of workers, then linked into the
 * commit's snapshot and the revision's ref written. Files already in the snapshot cost no request; with
 * {@code HF_HUB_OFFLINE} the cache alone answers.
 */
public final class Pull {
    /** Hears the bytes of a pull: the total to download once known, then each chunk as it lands. */
    public interface Progress {
        Progress NONE = new Progress() {
            @Override
            public void start(long totalBytes) {
            }

            @Override
            public void advance(long bytes) {
            }
        };

        void start(long totalBytes);

        /** Called from the download workers, concurrently. */
        void advance(long bytes);
    }

    /**
     * @param path       the model: the snapshot folder, or its one GGUF file
     * @param files      files the spec selects (0 when offline: the cache is not listed against the repo)
     * @param downloaded blobs downloaded now (0 when everything was cached)
     * @param bytes      their total size
     */
    public record Result(Path path, String commit, int files, int downloaded, long bytes) {
    }

    private Pull() {
    }

    public static Result run(HubConfig config, RepoSpec spec, String revision, int workers, Progress progress) {
        HubCache cache = new HubCache(config.cache());
        String repo = spec.repo();
        if (config.offline()) {
            Path cached = cache.find(spec, revision).orElseThrow(() -> new PagodaException(spec + " is not in the cache " + cache.root()
                    + " at revision '" + revision + "', and HF_HUB_OFFLINE is set: nothing may be downloaded"));
            return new Result(cached, cache.commit(repo, revision).orElseThrow(), 0, 0, 0);
        }
        try (HubClient client = new HubClient(config); ExecutorService pool = Executors.newFixedThreadPool(workers)) {
            RepoInfo info = client.info(repo, revision);
            List<String> files = FileSelection.forPull(spec, info.siblings());
            Path snapshot = cache.snapshot(repo, info.sha());
            List<FileMetadata> missing = all(pool, files.stream().filter(f -> !Files.exists(snapshot.resolve(f)))
                    .map(f -> (Callable<FileMetadata>) () -> client.metadata(repo, info.sha(), f)).toList());
            // One download per blob: files with the same content share it.
            Map<String, FileMetadata> fetch = new LinkedHashMap<>();
            for (FileMetadata m : missing) {
                if (!Files.exists(cache.blob(repo, m.etag()))) {
                    fetch.putIfAbsent(m.etag(), m);
                }
            }
            long total = fetch.values().stream().mapToLong(FileMetadata::size).sum();
            checkSpace(cache, repo, fetch.values(), total);
            progress.start(total);
            all(pool, fetch.values().stream().map(m -> (Callable<Void>) () -> {
                client.download(m, cache.incomplete(repo, m.etag()), cache.blob(repo, m.etag()), progress::advance);
                return null;
            }).toList());
            try {
                for (FileMetadata m : missing) {
                    cache.link(repo, info.sha(), m.file(), m.etag());
                }
                cache.writeRef(repo, revision, info.sha());
            } catch (IOException e) {
                throw new PagodaException("cannot write the snapshot " + snapshot + ": " + e.getMessage());
            }
            Path path = files.size() == 1 && files.getFirst().endsWith(".gguf") ? snapshot.resolve(files.getFirst()) : snapshot;
            return new Result(path, info.sha(), files.size(), fetch.size(), total);
        }
    }

    /** Refuses a download the disk cannot hold before its first byte, rather than failing half-way. */
    private static void checkSpace(HubCache cache, String repo, Iterable<FileMetadata> fetch, long total) {
        Path blobs = cache.repoDir(repo).resolve("blobs");
        try {
            Files.createDirectories(blobs);
            long needed = total;
            for (FileMetadata m : fetch) {
                Path partial = cache.incomplete(repo, m.etag());
                needed -= Files.isRegularFile(partial) ? Math.min(Files.size(partial), m.size()) : 0;
            }
            long free = Files.getFileStore(blobs).getUsableSpace();
            if (needed > free) {
                throw new PagodaException(String.format("not enough disk space for %s: the download needs %.1f MiB, %s has %.1f MiB free;"
                        + " free space or set HF_HUB_CACHE to another disk", repo, needed / 1048576.0, cache.root(), free / 1048576.0));
            }
        } catch (IOException e) {
            throw new PagodaException("cannot write the cache " + blobs + ": " + e.getMessage());
        }
    }

    /** Runs the tasks on the pool and returns their results in order; the first failure cancels the rest. */
    private static <T> List<T> all(ExecutorService pool, List<Callable<T>> tasks) {
        List<Future<T>> futures = tasks.stream().map(pool::submit).toList();
        List<T> results = new ArrayList<>();
        try {
            for (Future<T> f : futures) {
                results.add(f.get());
            }
        } catch (ExecutionException e) {
            futures.forEach(f -> f.cancel(true));
            throw e.getCause() instanceof RuntimeException r ? r : new PagodaException("download failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new PagodaException("interrupted");
        }
        return results;
    }
}
