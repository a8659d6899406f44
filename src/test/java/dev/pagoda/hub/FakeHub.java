package dev.pagoda.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pagoda.TestData;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

/**
 * A stand-in for the Hugging Face hub on 127.0.0.1 serving real fixture bytes: {@code /api/models/REPO/revision/REV}
 * (sha, siblings), {@code HEAD/GET /REPO/resolve/REV/FILE} (small files directly with their git blob id as ETag;
 * .gguf/.safetensors files as the hub serves LFS files: a 302 to a storage host, here {@code localhost}, with
 * X-Linked-Etag/X-Linked-Size), Range requests, 401 for a gated repo without the token, 404 with X-Error-Code.
 * Faults on demand: a body cut mid-way once, a corrupt body.
 */
public final class FakeHub implements AutoCloseable {
    public static final String TOKEN = "hf_fake_token";
    public static final String TINY = "pagoda-test/TinyStories-656K";
    public static final String GGUF = "pagoda-test/stories260K-GGUF";
    public static final String GATED = "pagoda-test/gated-TinyStories";

    record Repo(String sha, Map<String, byte[]> files, boolean gated) {
    }

    /** One request as the hub saw it. */
    public record Request(String method, String host, String path, String range, String authorization) {
    }

    private final HttpServer server;
    final Map<String, Repo> repos = new ConcurrentHashMap<>();
    public final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    /** Files whose next body is cut half-way (the connection closed). */
    final Set<String> cutOnce = ConcurrentHashMap.newKeySet();
    /** Files served whole even when a range is asked for, as some servers do. */
    final Set<String> ignoreRange = ConcurrentHashMap.newKeySet();
    /** Files served with one byte changed. */
    final Set<String> corrupt = ConcurrentHashMap.newKeySet();

    public FakeHub() throws IOException {
        Path tiny = TestData.path("models/TinyStories-656K");
        Map<String, byte[]> tinyFiles = new LinkedHashMap<>();
        for (String f : List.of("config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json",
                "tokenizer.json", "tokenizer_config.json")) {
            tinyFiles.put(f, Files.readAllBytes(tiny.resolve(f)));
        }
        tinyFiles.put("added_tokens.json", new byte[0]);  // an empty file: no request for its content, still linked
        // What a real repo carries beside the model, and a pull must leave alone.
        tinyFiles.put("README.md", Files.readAllBytes(tiny.resolve("README.txt")));
        tinyFiles.put("pytorch_model.bin", "not a model Pagoda loads".getBytes(StandardCharsets.UTF_8));
        tinyFiles.put("onnx/model.safetensors", "a file in a subfolder".getBytes(StandardCharsets.UTF_8));
        add(TINY, tinyFiles, false);
        add(GATED, tinyFiles, true);
        Map<String, byte[]> ggufFiles = new LinkedHashMap<>();
        ggufFiles.put("stories260K-F32.gguf", Files.readAllBytes(TestData.path("models/stories260K/stories260K.gguf")));
        ggufFiles.put("stories260K-Q4_K_M.gguf", Files.readAllBytes(TestData.path("models/stories260K/stories260K.llama2c-converter.gguf")));
        ggufFiles.put("stories260K-Q4_K_S.gguf", "GGUF stand-in, never downloaded".getBytes(StandardCharsets.UTF_8));
        ggufFiles.put("stories260K-F32_ALT.gguf", "another GGUF stand-in, never downloaded".getBytes(StandardCharsets.UTF_8));
        ggufFiles.put("README.md", "# stories260K in GGUF".getBytes(StandardCharsets.UTF_8));
        add(GGUF, ggufFiles, false);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", this::handle);
        server.start();
    }

    private void add(String repo, Map<String, byte[]> files, boolean gated) {
        repos.put(repo, new Repo(hex("SHA-1", repo.getBytes(StandardCharsets.UTF_8)), files, gated));
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Settings for a client of this hub with its own cache, plus any extra variables. */
    public HubConfig config(Path cache, String... extra) {
        Map<String, String> env = new LinkedHashMap<>(Map.of("HF_ENDPOINT", endpoint().toString(), "HF_HUB_CACHE", cache.toString(),
                "HF_TOKEN_PATH", cache.resolve("no-token").toString()));
        for (int i = 0; i < extra.length; i += 2) {
            env.put(extra[i], extra[i + 1]);
        }
        return HubConfig.fromEnv(env);
    }

    static boolean isLfs(String file) {
        return file.endsWith(".gguf") || file.endsWith(".safetensors");
    }

    /** The ETag the hub gives a file: LFS sha256, else the git blob id. */
    public static String etag(String file, byte[] content) {
        if (isLfs(file)) {
            return hex("SHA-256", content);
        }
        byte[] header = ("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII);
        byte[] blob = new byte[header.length + content.length];
        System.arraycopy(header, 0, blob, 0, header.length);
        System.arraycopy(content, 0, blob, header.length, content.length);
        return hex("SHA-1", blob);
    }

    List<Request> requestsTo(String pathPrefix) {
        synchronized (requests) {
            return requests.stream().filter(r -> r.path().startsWith(pathPrefix)).toList();
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        requests.add(new Request(ex.getRequestMethod(), ex.getRequestHeaders().getFirst("Host"), path,
                ex.getRequestHeaders().getFirst("Range"), auth));
        try (ex) {
            if (path.startsWith("/storage/")) {
                String sha = path.substring("/storage/".length());
                for (Repo r : repos.values()) {
                    for (Map.Entry<String, byte[]> f : r.files().entrySet()) {
                        if (isLfs(f.getKey()) && etag(f.getKey(), f.getValue()).equals(sha)) {
                            sendContent(ex, f.getKey(), f.getValue());
                            return;
                        }
                    }
                }
                error(ex, 404, null);
                return;
            }
            boolean api = path.startsWith("/api/models/");
            String rest = api ? path.substring("/api/models/".length()) : path.substring(1);
            String[] parts = rest.split("/", 5);  // ORG NAME (revision|resolve) REV [FILE]
            Repo repo = parts.length >= 4 ? repos.get(parts[0] + "/" + parts[1]) : null;
            if (repo == null) {
                error(ex, 404, "RepoNotFound");
                return;
            }
            if (repo.gated() && !("Bearer " + TOKEN).equals(auth)) {
                if (auth == null) {
                    error(ex, 401, "GatedRepo");
                } else {
                    ex.getResponseHeaders().set("X-Error-Message", "Invalid credentials in Authorization header");
                    error(ex, 401, null);
                }
                return;
            }
            if (!parts[3].equals("main") && !parts[3].equals(repo.sha())) {
                error(ex, 404, "RevisionNotFound");
                return;
            }
            if (api) {
                ObjectMapper json = new ObjectMapper();
                ObjectNode info = json.createObjectNode().put("id", parts[0] + "/" + parts[1]).put("sha", repo.sha());
                repo.files().keySet().forEach(f -> info.withArray("siblings").addObject().put("rfilename", f));
                send(ex, 200, json.writeValueAsBytes(info));
                return;
            }
            String file = parts.length == 5 ? parts[4] : "";
            byte[] content = repo.files().get(file);
            if (content == null) {
                error(ex, 404, "EntryNotFound");
                return;
            }
            ex.getResponseHeaders().set("X-Repo-Commit", repo.sha());
            String etag = etag(file, content);
            if (isLfs(file)) {
                ex.getResponseHeaders().set("X-Linked-Etag", "\"" + etag + "\"");
                ex.getResponseHeaders().set("X-Linked-Size", Long.toString(content.length));
                ex.getResponseHeaders().set("ETag", "\"redirect-etag\"");
                ex.getResponseHeaders().set("Location", "http://localhost:" + server.getAddress().getPort() + "/storage/" + etag);
                ex.sendResponseHeaders(302, -1);
                return;
            }
            ex.getResponseHeaders().set("ETag", "\"" + etag + "\"");
            sendContent(ex, file, content);
        }
    }

    private void sendContent(HttpExchange ex, String file, byte[] content) throws IOException {
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().set("Content-Length", Long.toString(content.length));
            ex.sendResponseHeaders(200, -1);
            return;
        }
        if (corrupt.contains(file)) {
            content = content.clone();
            content[content.length / 2] ^= 1;
        }
        String range = ex.getRequestHeaders().getFirst("Range");
        int from = range == null || ignoreRange.contains(file) ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
        if (from > 0) {
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
        }
        ex.sendResponseHeaders(from > 0 ? 206 : 200, content.length - from);
        OutputStream out = ex.getResponseBody();
        if (cutOnce.remove(file)) {
            out.write(content, from, (content.length - from) / 2);
            out.flush();
            throw new IOException("fake hub: connection cut mid-body");  // the server then drops the connection
        }
        out.write(content, from, content.length - from);
    }

    private static void error(HttpExchange ex, int status, String code) throws IOException {
        if (code != null) {
            ex.getResponseHeaders().set("X-Error-Code", code);
        }
        send(ex, status, ("{\"error\": \"" + (code == null ? "error" : code) + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
    }

    private static String hex(String algorithm, byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The content of a repo's file. */
    public byte[] content(String repo, String file) {
        return repos.get(repo).files().get(file);
    }

    public String sha(String repo) {
        return repos.get(repo).sha();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
