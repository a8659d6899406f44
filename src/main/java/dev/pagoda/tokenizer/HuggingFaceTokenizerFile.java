package dev.pagoda.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagoda.PagodaException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Reads a Hugging Face {@code tokenizer.json} (and {@code tokenizer_config.json} beside it when present).
 * Supported: model BPE; normalizers Sequence, Prepend, Replace, NFC/NFD/NFKC/NFKD, Lowercase; pre-tokenizers
 * ByteLevel, Split (Isolated), Sequence of those, or Metaspace; decoders ByteLevel, or (a Sequence of) Replace,
 * Metaspace, ByteFallback, Fuse, Strip; post-processors TemplateProcessing and ByteLevel. Anything else is
 * refused by name.
 */
final class HuggingFaceTokenizerFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    private HuggingFaceTokenizerFile(Path file) {
        this.file = file;
    }

    static Tokenizer load(Path folderOrFile) {
        Path file = Files.isDirectory(folderOrFile) ? folderOrFile.resolve("tokenizer.json") : folderOrFile;
        return new HuggingFaceTokenizerFile(file).build();
    }

    private Tokenizer build() {
        JsonNode root = read(file);
        JsonNode model = root.path("model");
        String type = model.path("type").asText("BPE");
        if (!type.equals("BPE") || !model.path("vocab").isObject()) {
            throw unsupported("model type", type);
        }
        for (String option : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            if (model.path(option).isTextual() && !model.get(option).asText().isEmpty()) {
                throw unsupported("BPE option " + option, model.get(option).asText());
            }
        }

        List<String> pieces = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : model.get("vocab").properties()) {
            put(pieces, e.getValue().asInt(-1), e.getKey());
        }
        JsonNode added = root.path("added_tokens");
        for (JsonNode t : added) {
            put(pieces, t.path("id").asInt(-1), t.path("content").asText());
        }
        String[] p = pieces.toArray(String[]::new);
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        TokenType[] types = new TokenType[p.length];
        for (int i = 0; i < p.length; i++) {
            types[i] = byteFallback && SentencePieceBpe.byteValue(p[i]) >= 0 ? TokenType.BYTE : TokenType.NORMAL;
        }
        for (JsonNode t : added) {
            types[t.get("id").asInt()] = t.path("special").asBoolean(false) ? TokenType.CONTROL : TokenType.USER_DEFINED;
        }

        JsonNode decoder = root.path("decoder");
        boolean byteLevelDecoder = decoder.path("type").asText().equals("ByteLevel");
        byte[][] bytes = byteLevelDecoder ? byteLevelBytes(p) : sequenceDecoderBytes(decoder, p, types);
        Vocabulary vocab = new Vocabulary(p, types, bytes);

        UnaryOperator<String> normalizer = normalizer(root.path("normalizer"));
        List<SpecialTokenSplitter.Entry> raw = new ArrayList<>();
        List<SpecialTokenSplitter.Entry> normalized = new ArrayList<>();
        for (JsonNode t : added) {
            boolean special = t.path("special").asBoolean(false);
            String content = t.path("content").asText();
            int id = t.get("id").asInt();
            if (t.path("normalized").asBoolean(!special)) {
                normalized.add(new SpecialTokenSplitter.Entry(normalizer.apply(content), id, !special));
            } else {
                raw.add(new SpecialTokenSplitter.Entry(content, id, !special));
            }
        }

        HuggingFaceBpe.Pipeline pipeline = pipeline(normalizer, root.path("pre_tokenizer"));
        int unk = model.path("unk_token").isTextual() ? vocab.id(model.get("unk_token").asText()) : -1;
        HuggingFaceBpe.Model bpe = new HuggingFaceBpe.Model(ByteLevelBpe.rankMerges(vocab, merges(model.path("merges"))),
                byteFallback, model.path("fuse_unk").asBoolean(false), model.path("ignore_merges").asBoolean(false), unk);

        // BOS/EOS: the post-processor's template, unless tokenizer_config.json's add_bos/add_eos flags say
        // otherwise (transformers' Llama tokenizers rebuild the template from those flags).
        List<Integer> prefix = new ArrayList<>();
        List<Integer> suffix = new ArrayList<>();
        template(root.path("post_processor"), prefix, suffix);
        JsonNode config = read(file.resolveSibling("tokenizer_config.json"), true);
        int bos = tokenId(vocab, config.path("bos_token"), prefix.isEmpty() ? -1 : prefix.getFirst());
        int eos = tokenId(vocab, config.path("eos_token"), suffix.isEmpty() ? -1 : suffix.getLast());
        if (config.path("add_bos_token").isBoolean()) {
            prefix.clear();
            if (config.get("add_bos_token").asBoolean() && bos >= 0) {
                prefix.add(bos);
            }
        }
        if (config.path("add_eos_token").isBoolean()) {
            suffix.clear();
            if (config.get("add_eos_token").asBoolean() && eos >= 0) {
                suffix.add(eos);
            }
        }
        return new HuggingFaceBpe(vocab, raw, normalized, pipeline, bpe,
                prefix.stream().mapToInt(Integer::intValue).toArray(), suffix.stream().mapToInt(Integer::intValue).toArray(),
                bos, eos, byteLevelDecoder ? Detokenizer.LeadingSpace.KEEP : leadingSpace(decoder));
    }

    private void put(List<String> pieces, int id, String piece) {
        if (id < 0 || id > 1 << 24) {
            throw new PagodaException("tokenizer file " + file + " has token '" + piece + "' with invalid id " + id);
        }
        while (pieces.size() <= id) {
            pieces.add("");
        }
        pieces.set(id, piece);
    }

    /** Merges as "left right" strings (older files) or [left, right] arrays (newer files). */
    private List<String[]> merges(JsonNode merges) {
        List<String[]> pairs = new ArrayList<>(merges.size());
        for (JsonNode m : merges) {
            if (m.isArray() && m.size() == 2) {
                pairs.add(new String[] {m.get(0).asText(), m.get(1).asText()});
            } else {
                String rule = m.asText();
                int space = rule.indexOf(' ', 1);
                if (space < 0) {
                    throw new PagodaException("tokenizer file " + file + " has malformed merge '" + rule + "'");
                }
                pairs.add(new String[] {rule.substring(0, space), rule.substring(space + 1)});
            }
        }
        return pairs;
    }

    private UnaryOperator<String> normalizer(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return UnaryOperator.identity();
        }
        String type = n.path("type").asText();
        return switch (type) {
            case "Sequence" -> {
                List<UnaryOperator<String>> steps = new ArrayList<>();
                n.path("normalizers").forEach(s -> steps.add(normalizer(s)));
                yield s -> {
                    for (UnaryOperator<String> step : steps) {
                        s = step.apply(s);
                    }
                    return s;
                };
            }
            case "Prepend" -> {
                String prefix = n.path("prepend").asText();
                yield s -> s.isEmpty() ? s : prefix + s;
            }
            case "Replace" -> {
                String pattern = stringPattern(n, "normalizer Replace");
                String content = n.path("content").asText();
                yield s -> s.replace(pattern, content);
            }
            case "NFC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFC);
            case "NFD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFD);
            case "NFKC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            case "NFKD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            case "Lowercase" -> s -> s.toLowerCase(Locale.ROOT);
            default -> throw unsupported("normalizer", type);
        };
    }

    private HuggingFaceBpe.Pipeline pipeline(UnaryOperator<String> normalizer, JsonNode pre) {
        if (pre.path("type").asText().equals("Metaspace")) {
            return new HuggingFaceBpe.Pipeline(normalizer, null, false, false, new Metaspace(
                    pre.path("replacement").asText("\u2581"), prependScheme(pre), pre.path("split").asBoolean(true)));
        }
        List<String> regexes = new ArrayList<>();
        boolean[] byteLevel = new boolean[1];
        boolean[] addPrefixSpace = new boolean[1];
        preTokenizer(pre, regexes, byteLevel, addPrefixSpace);
        PreTokenizer splitter = regexes.isEmpty() ? null : PreTokenizer.ofRegexes(regexes);
        return new HuggingFaceBpe.Pipeline(normalizer, splitter, byteLevel[0], addPrefixSpace[0], null);
    }

    /** Metaspace's prepend_scheme; files older than that field say add_prefix_space instead. */
    private String prependScheme(JsonNode metaspace) {
        if (!metaspace.path("prepend_scheme").isTextual()) {
            return metaspace.path("add_prefix_space").asBoolean(true) ? "always" : "never";
        }
        String scheme = metaspace.get("prepend_scheme").asText();
        if (!List.of("always", "first", "never").contains(scheme)) {
            throw unsupported("Metaspace prepend_scheme", scheme);
        }
        return scheme;
    }

    private void preTokenizer(JsonNode n, List<String> regexes, boolean[] byteLevel, boolean[] addPrefixSpace) {
        if (n.isMissingNode() || n.isNull()) {
            return;
        }
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> n.path("pretokenizers").forEach(p -> preTokenizer(p, regexes, byteLevel, addPrefixSpace));
            case "ByteLevel" -> {
                byteLevel[0] = true;
                addPrefixSpace[0] = n.path("add_prefix_space").asBoolean(false);
                if (n.path("use_regex").asBoolean(true)) {
                    regexes.add(PreTokenizer.GPT2_WITH_SPACES);
                }
            }
            case "Split" -> {
                if (!n.path("behavior").asText().equals("Isolated") || n.path("invert").asBoolean(false)) {
                    throw unsupported("Split behavior", n.path("behavior").asText() + (n.path("invert").asBoolean() ? " (inverted)" : ""));
                }
                JsonNode pattern = n.path("pattern");
                regexes.add(pattern.has("Regex") ? pattern.get("Regex").asText() : Pattern.quote(stringPattern(n, "Split")));
            }
            default -> throw unsupported("pre-tokenizer", type);
        }
    }

    private String stringPattern(JsonNode n, String where) {
        JsonNode pattern = n.path("pattern");
        if (!pattern.has("String")) {
            throw unsupported(where + " pattern", pattern.toString());
        }
        return pattern.get("String").asText();
    }

    private static byte[][] byteLevelBytes(String[] pieces) {
        byte[][] bytes = new byte[pieces.length][];
        for (int i = 0; i < pieces.length; i++) {
            bytes[i] = ByteUnicode.decode(pieces[i]);
        }
        return bytes;
    }

    /** Per-token bytes through a SentencePiece-style decoder chain (Replace, ByteFallback, Fuse, Strip). */
    private byte[][] sequenceDecoderBytes(JsonNode decoder, String[] pieces, TokenType[] types) {
        List<JsonNode> steps = decoderSteps(decoder);
        String from = null;
        String to = null;
        boolean byteFallback = false;
        for (JsonNode step : steps) {
            String type = step.path("type").asText();
            switch (type) {
                case "Replace" -> {
                    from = stringPattern(step, "decoder Replace");
                    to = step.path("content").asText();
                }
                case "Metaspace" -> {
                    from = step.path("replacement").asText("\u2581");
                    to = " ";
                }
                case "ByteFallback" -> byteFallback = true;
                case "Fuse" -> { }
                case "Strip" -> {
                    if (!step.path("content").asText().equals(" ") || step.path("start").asInt() > 1
                            || step.path("stop").asInt() != 0) {
                        throw unsupported("decoder Strip", step.toString());
                    }
                }
                default -> throw unsupported("decoder", type);
            }
        }
        byte[][] bytes = new byte[pieces.length][];
        for (int i = 0; i < pieces.length; i++) {
            int b = byteFallback && types[i] == TokenType.BYTE ? SentencePieceBpe.byteValue(pieces[i]) : -1;
            String text = from == null ? pieces[i] : pieces[i].replace(from, to);
            bytes[i] = b >= 0 ? new byte[] {(byte) b} : text.getBytes(StandardCharsets.UTF_8);
        }
        return bytes;
    }

    private List<JsonNode> decoderSteps(JsonNode decoder) {
        if (decoder.isMissingNode() || decoder.isNull()) {
            throw unsupported("decoder", "none");
        }
        List<JsonNode> steps = new ArrayList<>();
        if (decoder.path("type").asText().equals("Sequence")) {
            decoder.path("decoders").forEach(steps::add);
        } else {
            steps.add(decoder);
        }
        return steps;
    }

    private Detokenizer.LeadingSpace leadingSpace(JsonNode decoder) {
        for (JsonNode step : decoderSteps(decoder)) {
            String type = step.path("type").asText();
            if (type.equals("Strip") && step.path("start").asInt() == 1) {
                return Detokenizer.LeadingSpace.STRIP_ONE;
            }
            if (type.equals("Metaspace") && !prependScheme(step).equals("never")) {
                return Detokenizer.LeadingSpace.DROP_IN_FIRST_TOKEN;
            }
        }
        return Detokenizer.LeadingSpace.KEEP;
    }

    /** TemplateProcessing's single-sequence template: special tokens before and after the sequence. */
    private void template(JsonNode post, List<Integer> prefix, List<Integer> suffix) {
        if (post.isMissingNode() || post.isNull()) {
            return;
        }
        String type = post.path("type").asText();
        switch (type) {
            case "ByteLevel" -> { }
            case "Sequence" -> post.path("processors").forEach(p -> template(p, prefix, suffix));
            case "TemplateProcessing" -> {
                List<Integer> target = prefix;
                for (JsonNode item : post.path("single")) {
                    if (item.has("Sequence")) {
                        target = suffix;
                    } else {
                        String name = item.path("SpecialToken").path("id").asText();
                        JsonNode ids = post.path("special_tokens").path(name).path("ids");
                        if (!ids.isArray()) {
                            throw new PagodaException("tokenizer file " + file + ": template token '" + name
                                    + "' is not among the post-processor's special_tokens");
                        }
                        for (JsonNode id : ids) {
                            target.add(id.asInt());
                        }
                    }
                }
            }
            default -> throw unsupported("post-processor", type);
        }
    }

    /** A token named in tokenizer_config.json (a string or an object with "content"), else the fallback. */
    private static int tokenId(Vocabulary vocab, JsonNode token, int fallback) {
        String text = token.isTextual() ? token.asText() : token.path("content").isTextual() ? token.get("content").asText() : null;
        int id = text == null ? -1 : vocab.id(text);
        return id >= 0 ? id : fallback;
    }

    private JsonNode read(Path path) {
        return read(path, false);
    }

    private static JsonNode read(Path path, boolean optional) {
        if (optional && !Files.exists(path)) {
            return JSON.missingNode();
        }
        try {
            return JSON.readTree(path.toFile());
        } catch (IOException e) {
            throw new PagodaException("cannot read tokenizer file " + path + ": " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    private PagodaException unsupported(String what, String name) {
        return new PagodaException("unsupported tokenizer.json " + what + " '" + name + "' in " + file);
    }

}
