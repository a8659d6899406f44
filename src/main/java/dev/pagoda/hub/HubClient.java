package dev.pagoda.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.PagodaException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * The hub's HTTP endpoints: a repo's commit and file list, a file's metadata, a file's content. Redirects are
 * followed by hand so that the token goes only to the hub itself, never to the storage host large files are
 * redirected to. Every failure is one {@link PagodaException} line that says what to do.
 */
final class HubClient implements AutoCloseable {
    /** A repo at a revision: the commit it resolves to and the paths of its files. */
    record RepoInfo(String sha, List<String> siblings) {
    }

    /**
     * A file as the hub describes it before sending it.
     *
     * @param etag its blob name and checksum (LFS sha256 or git blob id)
     * @param url  its {@code resolve} address on the hub, asked again on every try: large files redirect from
     *             there to a storage address that expires
     */
    record FileMetadata(String repo, String file, String etag, long size, URI url) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String USER_AGENT = "pagoda/0.1.0";
    private static final int MAX_REDIRECTS = 10;
    /** Tries per file when the connection breaks mid-body; each resumes where the last one stopped. */
    private static final int ATTEMPTS = 5;

    private final HubConfig config;
    private final HttpClient http;

    HubClient(HubConfig config) {
        this.config = config;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(20)).build();
    }

    RepoInfo info(String repo, String revision) {
        HttpResponse<InputStream> r = exchange("GET", URI.create(config.endpoint() + "/api/models/" + repo + "/revision/" + encode(revision)), 0, false);
        try (InputStream in = r.body()) {
            if (r.statusCode() != 200) {
                throw failure(r, repo, "revision '" + revision + "'");
            }
            JsonNode info = JSON.readTree(in);
            String sha = info.path("sha").asText("");
            if (!sha.matches("[0-9a-f]{40}")) {
                throw new PagodaException(config.endpoint() + " sent no commit id for " + repo + " at '" + revision + "'");
            }
            List<String> files = new ArrayList<>();
            info.path("siblings").forEach(s -> files.add(s.path("rfilename").asText()));
            return new RepoInfo(sha, files);
        } catch (IOException e) {
            throw new PagodaException("cannot read the file list of " + repo + " from " + config.endpoint() + ": " + e.getMessage());
        }
    }

    FileMetadata metadata(String repo, String commit, String file) {
        URI uri = URI.create(config.endpoint() + "/" + repo + "/resolve/" + commit + "/" + encodePath(file));
        HttpResponse<InputStream> r = exchange("HEAD", uri, 0, false);
        closeQuietly(r.body());
        if (r.statusCode() >= 400) {
            throw failure(r, repo, file + " at " + commit);
        }
        String etag = header(r, "X-Linked-Etag", header(r, "ETag", null));
        String size = header(r, "X-Linked-Size", header(r, "Content-Length", null));
        if (etag == null || size == null) {
            throw new PagodaException(config.endpoint() + " sent no " + (etag == null ? "ETag" : "size") + " for " + repo + "/" + file
                    + ": cannot verify the download");
        }
        return new FileMetadata(repo, file, etag.replaceFirst("^W/", "").replace("\"", "").toLowerCase(Locale.ROOT),
                Long.parseLong(size.strip()), uri);
    }

    /**
     * Downloads a file's content to {@code blob}: into its {@code .incomplete} file first, resuming the bytes
     * already there (HTTP Range), retrying when the connection breaks, checking the checksum, then moved in
     * place. {@code progress} hears every byte added (the resumed ones first; a negative count when the server
     * ignores the range and the file starts over).
     */
    void download(FileMetadata m, Path incomplete, Path blob, LongConsumer progress) {
        String corrupt;
        try {
            Files.createDirectories(incomplete.getParent());
        } catch (IOException e) {
            throw diskFailure(incomplete, e);
        }
        try (FileChannel out = FileChannel.open(incomplete, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                FileLock lock = out.tryLock()) {
            if (lock == null) {
                throw new PagodaException(m.file() + " is being downloaded by another pagoda pull (" + incomplete + " is locked)");
            }
            corrupt = fetch(m, out, incomplete, progress);
        } catch (IOException e) {
            throw diskFailure(incomplete, e);
        }
        try {
            if (corrupt != null) {
                Files.deleteIfExists(incomplete);
                throw new PagodaException(m.file() + ": the downloaded content is corrupt (" + corrupt + "); it was removed, run pagoda pull again");
            }
            Files.move(incomplete, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw diskFailure(blob, e);
        }
    }

    /** Fills {@code out} up to the file's size; returns null when the checksum matches, else the mismatch. */
    private String fetch(FileMetadata m, FileChannel out, Path incomplete, LongConsumer progress) throws IOException {
        BlobChecksum checksum = new BlobChecksum(m.etag(), m.size());
        long have = out.size();
        if (have > m.size()) {
            out.truncate(0);
            have = 0;
        }
        byte[] buf = new byte[1 << 16];
        for (long pos = 0; pos < have; ) {
            int n = out.read(ByteBuffer.wrap(buf, 0, (int) Math.min(buf.length, have - pos)), pos);
            checksum.update(buf, 0, n);
            pos += n;
        }
        progress.accept(have);
        String broken = null;
        for (int attempt = 1; have < m.size(); attempt++) {
            if (attempt > ATTEMPTS) {
                throw new PagodaException(m.file() + ": download failed " + ATTEMPTS + " times (" + broken + "); run pagoda pull again to resume at byte " + have);
            }
            pause(attempt);
            HttpResponse<InputStream> r = exchange("GET", m.url(), have, true);
            InputStream in = r.body();
            try {
                if (r.statusCode() == 200 && have > 0) {
                    // The server ignored the range: start over rather than append the beginning again.
                    out.truncate(0);
                    checksum.reset();
                    progress.accept(-have);
                    have = 0;
                } else if (r.statusCode() != 200 && r.statusCode() != 206) {
                    throw failure(r, m.repo(), m.file());
                }
                for (int n; ; ) {
                    try {
                        n = in.read(buf);
                    } catch (IOException e) {
                        broken = "connection broken at byte " + have + " of " + m.size() + ": " + e.getMessage();
                        break;
                    }
                    if (n < 0) {
                        broken = "connection closed at byte " + have + " of " + m.size();
                        break;
                    }
                    if (have + n > m.size()) {
                        throw new PagodaException(m.file() + ": the server sent more than the " + m.size() + " bytes announced");
                    }
                    try {
                        out.write(ByteBuffer.wrap(buf, 0, n), have);
                    } catch (IOException e) {
                        throw diskFailure(incomplete, e);
                    }
                    checksum.update(buf, 0, n);
                    have += n;
                    progress.accept(n);
                }
            } finally {
                closeQuietly(in);
            }
        }
        return checksum.mismatch();
    }

    /**
     * One request, following redirects: relative ones always (a renamed repo), others only when
     * {@code anyHost}; the token goes only to the endpoint's own origin.
     */
    private HttpResponse<InputStream> exchange(String method, URI uri, long rangeFrom, boolean anyHost) {
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody())
                    .header("User-Agent", USER_AGENT).timeout(Duration.ofSeconds(60));
            if (config.token() != null && sameOrigin(uri, config.endpoint())) {
                b.header("Authorization", "Bearer " + config.token());
            }
            if (rangeFrom > 0) {
                b.header("Range", "bytes=" + rangeFrom + "-");
            }
            HttpResponse<InputStream> r = send(b.build());
            String location = header(r, "Location", null);
            if (r.statusCode() / 100 != 3 || location == null) {
                return r;
            }
            URI next = uri.resolve(location);
            if (!anyHost && !sameOrigin(next, uri)) {
                return r;
            }
            closeQuietly(r.body());
            if (hop == MAX_REDIRECTS) {
                throw new PagodaException("too many redirects from " + uri);
            }
            uri = next;
        }
    }

    private HttpResponse<InputStream> send(HttpRequest request) {
        String host = request.uri().getScheme() + "://" + request.uri().getAuthority();
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException e) {
            throw new PagodaException("cannot reach " + host + " (" + connectFailure(e) + "): check the network or HF_ENDPOINT;"
                    + " HF_HUB_OFFLINE=1 uses the cache only");
        } catch (HttpTimeoutException e) {
            throw new PagodaException(host + " did not answer in time: check the network or HF_ENDPOINT; HF_HUB_OFFLINE=1 uses the cache only");
        } catch (IOException e) {
            throw new PagodaException("network error talking to " + host + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PagodaException("interrupted while talking to " + host);
        }
    }

    /** Why a connection failed, in words: the client's exception often carries no message of its own. */
    private static String connectFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException) {
                return "unknown host";
            }
            if (t.getMessage() != null) {
                return t.getMessage();
            }
        }
        return "connection refused";
    }

    /** The hub's error answers, as one line saying what to do; X-Error-Code tells its kinds apart. */
    private PagodaException failure(HttpResponse<?> r, String repo, String what) {
        String code = header(r, "X-Error-Code", "");
        String message = header(r, "X-Error-Message", "");
        String page = config.endpoint() + "/" + repo;
        boolean token = config.token() != null;
        return new PagodaException(switch (code) {
            case "RepoNotFound" -> repo + ": no such model repository on " + config.endpoint()
                    + (token ? " (or HF_TOKEN's account cannot see it)" : " (or it is private: set HF_TOKEN)");
            case "GatedRepo" -> repo + " is gated: " + (token ? "HF_TOKEN's account has no access yet; request it at " + page
                    : "request access at " + page + ", then set HF_TOKEN to a token of that account");
            case "RevisionNotFound" -> repo + ": no " + what;
            case "EntryNotFound" -> repo + ": no file " + what;
            default -> switch (r.statusCode()) {
                case 401 -> token ? "HF_TOKEN was refused by " + config.endpoint() + " (401" + detail(message) + "): check the token"
                        : repo + " needs a token (gated or private): set HF_TOKEN (401" + detail(message) + ")";
                case 403 -> repo + ": access denied (403" + detail(message) + ")" + (token ? "" : ": set HF_TOKEN");
                case 404 -> repo + ": " + what + " not found on " + config.endpoint() + " (404" + detail(message) + ")";
                case 429 -> config.endpoint() + " is limiting the request rate (429): wait and retry" + (token ? "" : ", or set HF_TOKEN");
                default -> config.endpoint() + " answered HTTP " + r.statusCode() + " for " + repo + " " + what + detail(message);
            };
        });
    }

    /** Waits a little longer before each retry, so a passing network fault has time to pass. */
    private static void pause(int attempt) {
        try {
            Thread.sleep(250L * (attempt - 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PagodaException("interrupted while downloading");
        }
    }

    private static PagodaException diskFailure(Path file, IOException e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new PagodaException(why.contains("No space left") ? "disk full writing " + file + ": free space or set HF_HUB_CACHE to another disk"
                : "cannot write " + file + ": " + why);
    }

    private static String detail(String message) {
        return message.isBlank() ? "" : ": " + message;
    }

    private static String header(HttpResponse<?> r, String name, String otherwise) {
        return r.headers().firstValue(name).orElse(otherwise);
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String path) {
        return String.join("/", Arrays.stream(path.split("/")).map(HubClient::encode).toList());
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // A redirect's or HEAD's empty body: nothing to lose.
        }
    }

    /** Aborts what is still open: an exchange whose task was cancelled mid-request would hold a plain close() forever. */
    @Override
    public void close() {
        http.shutdownNow();
    }
}
