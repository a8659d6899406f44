package dev.pagoda.format.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.PagodaException;
import dev.pagoda.kernel.WeightMatrix;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The weights of a Hugging Face model folder: either one {@code model.safetensors} or shards listed in
 * {@code model.safetensors.index.json} ({@code weight_map}: tensor name -> shard file name), as one set of
 * named tensors. Like transformers, a single {@code model.safetensors} wins over an index.
 */
public final class SafetensorsModel implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path folder;
    private final List<SafetensorsFile> files;
    /** Tensor name -> the file that holds it, in index (or header) order. */
    private final Map<String, SafetensorsFile> owners;
    private final Map<String, String> metadata;

    private SafetensorsModel(Path folder, List<SafetensorsFile> files, Map<String, SafetensorsFile> owners) {
        this.folder = folder;
        this.files = List.copyOf(files);
        this.owners = Collections.unmodifiableMap(owners);
        Map<String, String> meta = new LinkedHashMap<>();
        for (SafetensorsFile f : files) {
            meta.putAll(f.metadata());
        }
        this.metadata = Collections.unmodifiableMap(meta);
    }

    /**
     * Opens the weights in {@code folder} (or a single {@code .safetensors} file given directly).
     *
     * @throws PagodaException when there are no weights, the index is invalid, or a file is corrupt
     */
    public static SafetensorsModel open(Path folder) {
        folder = folder.toAbsolutePath().normalize();
        if (Files.isRegularFile(folder)) {
            return single(folder.getParent(), folder);
        }
        if (!Files.isDirectory(folder)) {
            throw new PagodaException(folder + ": no such model folder");
        }
        Path single = folder.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            return single(folder, single);
        }
        Path index = folder.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return sharded(folder, index);
        }
        throw new PagodaException(folder + ": no " + SINGLE_FILE + " or " + INDEX_FILE);
    }

    private static SafetensorsModel single(Path folder, Path file) {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> owners = new LinkedHashMap<>();
        for (String name : f.names()) {
            owners.put(name, f);
        }
        return new SafetensorsModel(folder, List.of(f), owners);
    }

    private static SafetensorsModel sharded(Path folder, Path index) {
        JsonNode weightMap;
        try {
            JsonNode root = new ObjectMapper().readTree(index.toFile());
            weightMap = root == null ? null : root.get("weight_map");
        } catch (JsonProcessingException e) {
            throw new PagodaException(index + ": invalid JSON: " + e.getOriginalMessage().replace('\n', ' '));
        } catch (IOException e) {
            throw new PagodaException(index + ": cannot read: " + e.getMessage(), e);
        }
        if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
            throw new PagodaException(index + ": no \"weight_map\" object of tensor name -> file name");
        }
        Map<String, SafetensorsFile> byFileName = new LinkedHashMap<>();
        Map<String, SafetensorsFile> owners = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
                String tensor = e.getKey();
                String fileName = e.getValue().isTextual() ? e.getValue().asText() : null;
                Path shard = fileName == null ? null : folder.resolve(fileName).normalize();
                if (shard == null || !folder.equals(shard.getParent())) {
                    throw new PagodaException(index + ": weight_map entry '" + tensor + "' must name a file in the folder, got " + e.getValue());
                }
                SafetensorsFile f = byFileName.get(fileName);
                if (f == null) {
                    f = SafetensorsFile.open(shard);
                    byFileName.put(fileName, f);
                }
                if (!f.has(tensor)) {
                    throw new PagodaException(index + ": weight_map puts '" + tensor + "' in " + fileName + ", which has no such tensor");
                }
                owners.put(tensor, f);
            }
        } catch (RuntimeException e) {
            byFileName.values().forEach(SafetensorsFile::close);
            throw e;
        }
        return new SafetensorsModel(folder, new ArrayList<>(byFileName.values()), owners);
    }

    public Path folder() {
        return folder;
    }

    /** Tensor names, in index order (or header order for a single file). */
    public Set<String> names() {
        return owners.keySet();
    }

    public boolean has(String name) {
        return owners.containsKey(name);
    }

    /** The tensor's header entry, or null when absent. */
    public SafetensorsTensorInfo tensorInfo(String name) {
        SafetensorsFile f = owners.get(name);
        return f == null ? null : f.tensorInfo(name);
    }

    /**
     * The named tensor from whichever file holds it; see {@link SafetensorsFile#tensor}.
     *
     * @throws PagodaException when no file holds it or its dtype is unsupported
     */
    public WeightMatrix tensor(String name) {
        SafetensorsFile f = owners.get(name);
        if (f == null) {
            throw new PagodaException(folder + ": no tensor named '" + name + "'");
        }
        return f.tensor(name);
    }

    /** The {@code __metadata__} entries of all files (a later shard's value wins on a clash). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The open files (one, or one per shard). */
    public List<SafetensorsFile> files() {
        return files;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
