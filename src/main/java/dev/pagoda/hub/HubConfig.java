package dev.pagoda.hub;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;

/**
 * The Hugging Face hub settings, read from the same environment variables as {@code huggingface_hub}, so
 * that a cache filled by {@code huggingface-cli} or vLLM is shared. Built from a map, not the process
 * environment, so tests inject their own.
 *
 * @param endpoint {@code HF_ENDPOINT}, default {@code https://huggingface.co}
 * @param cache    {@code HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code $XDG_CACHE_HOME/huggingface/hub},
 *                 else {@code ~/.cache/huggingface/hub}
 * @param token    {@code HF_TOKEN}, else the file {@code huggingface-cli login} writes ({@code HF_TOKEN_PATH},
 *                 default {@code $HF_HOME/token}); null when neither is set
 * @param offline  {@code HF_HUB_OFFLINE} is 1/true/yes/on: never touch the network
 */
public record HubConfig(URI endpoint, Path cache, String token, boolean offline) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    public static HubConfig fromEnv(Map<String, String> env) {
        Path home = set(env, "HF_HOME") ? Path.of(env.get("HF_HOME"))
                : (set(env, "XDG_CACHE_HOME") ? Path.of(env.get("XDG_CACHE_HOME")) : Path.of(System.getProperty("user.home"), ".cache"))
                        .resolve("huggingface");
        Path cache = set(env, "HF_HUB_CACHE") ? Path.of(env.get("HF_HUB_CACHE")) : home.resolve("hub");
        String endpoint = set(env, "HF_ENDPOINT") ? env.get("HF_ENDPOINT").strip() : DEFAULT_ENDPOINT;
        String token = set(env, "HF_TOKEN") ? env.get("HF_TOKEN").strip()
                : readToken(set(env, "HF_TOKEN_PATH") ? Path.of(env.get("HF_TOKEN_PATH")) : home.resolve("token"));
        String off = env.getOrDefault("HF_HUB_OFFLINE", "").strip().toLowerCase(Locale.ROOT);
        boolean offline = off.equals("1") || off.equals("true") || off.equals("yes") || off.equals("on");
        return new HubConfig(URI.create(endpoint.replaceAll("/+$", "")), cache, token, offline);
    }

    private static boolean set(Map<String, String> env, String name) {
        String v = env.get(name);
        return v != null && !v.isBlank();
    }

    private static String readToken(Path file) {
        try {
            String t = Files.isRegularFile(file) ? Files.readString(file).strip() : "";
            return t.isEmpty() ? null : t;
        } catch (IOException e) {
            return null;
        }
    }
}
