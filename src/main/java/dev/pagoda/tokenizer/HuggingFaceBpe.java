package dev.pagoda.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A Hugging Face {@code tokenizer.json} BPE tokenizer, run as the tokenizers library runs it: added tokens are
 * cut out of the raw text (those marked normalized are matched after normalization), the rest is normalized,
 * pre-tokenized into words, and each word is merged by the ranks of the merges list. Words start either as
 * GPT-2 byte characters (ByteLevel) or as characters, where a character outside the vocabulary becomes its
 * {@code <0xNN>} byte tokens (byte_fallback) or the unknown token (consecutive ones fused).
 * The post-processor's template adds BOS/EOS around the result.
 */
final class HuggingFaceBpe extends VocabTokenizer {
    /** How text reaches the model: normalizer, pre-tokenizer, and whether words go through the byte map. */
    record Pipeline(UnaryOperator<String> normalizer, PreTokenizer preTokenizer, boolean byteLevel,
                    boolean addPrefixSpace, Metaspace metaspace) {
    }

    /** The BPE model's options. */
    record Model(MergeTable merges, boolean byteFallback, boolean fuseUnk, boolean ignoreMerges, int unk) {
    }

    private final SpecialTokenSplitter rawAdded;
    private final SpecialTokenSplitter normalizedAdded;
    private final Pipeline pipeline;
    private final Model model;
    private final int[] byteTokens;
    private final int[] prefix;
    private final int[] suffix;

    HuggingFaceBpe(Vocabulary vocab, List<SpecialTokenSplitter.Entry> rawAdded,
                   List<SpecialTokenSplitter.Entry> normalizedAdded, Pipeline pipeline, Model model,
                   int[] prefix, int[] suffix, int bos, int eos, Detokenizer.LeadingSpace leadingSpace) {
        super(vocab, bos, eos, false, false, leadingSpace);
        this.rawAdded = new SpecialTokenSplitter(rawAdded);
        this.normalizedAdded = new SpecialTokenSplitter(normalizedAdded);
        this.pipeline = pipeline;
        this.model = model;
        this.byteTokens = vocab.byteTokens();
        this.prefix = prefix;
        this.suffix = suffix;
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList(text.length() + 2);
        if (addSpecial) {
            for (int id : prefix) {
                out.add(id);
            }
        }
        for (SpecialTokenSplitter.Fragment raw : rawAdded.split(text, parseSpecial)) {
            if (!raw.isText()) {
                out.add(raw.token());
                continue;
            }
            String normalized = pipeline.normalizer().apply(text.substring(raw.start(), raw.end()));
            for (SpecialTokenSplitter.Fragment f : normalizedAdded.split(normalized, parseSpecial)) {
                if (f.isText()) {
                    encodeText(normalized.substring(f.start(), f.end()), raw.start() == 0 && f.start() == 0, out);
                } else {
                    out.add(f.token());
                }
            }
        }
        if (addSpecial) {
            for (int id : suffix) {
                out.add(id);
            }
        }
        return out.toArray();
    }

    /**
     * Pre-tokenizes and merges already-normalized text.
     *
     * @param atInputStart the text begins the whole input (Metaspace's "first" prepend scheme)
     */
    @Override
    void encodeText(String text, boolean atInputStart, IntList out) {
        String s = pipeline.addPrefixSpace() && !text.startsWith(" ") ? " " + text : text;
        List<String> words = pipeline.metaspace() != null ? pipeline.metaspace().words(s, atInputStart)
                : pipeline.preTokenizer() == null ? List.of(s) : pipeline.preTokenizer().split(s);
        PairMerger merger = new PairMerger();
        for (String word : words) {
            String w = pipeline.byteLevel() ? ByteUnicode.encode(word) : word;
            if (model.ignoreMerges()) {
                int whole = vocab.id(w);
                if (whole >= 0) {
                    out.add(whole);
                    continue;
                }
            }
            int[] symbols = new int[w.length() * 4];
            int n = initialSymbols(w, symbols);
            n = merger.merge(symbols, n, model.merges());
            for (int i = 0; i < n; i++) {
                out.add(symbols[i]);
            }
        }
    }

    /** One symbol per character; missing characters become byte tokens or (fused) unknown tokens. */
    private int initialSymbols(String word, int[] symbols) {
        int n = 0;
        boolean prevUnknown = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int next = i + Character.charCount(cp);
            int id = vocab.id(word.substring(i, next));
            i = next;
            if (id >= 0) {
                symbols[n++] = id;
                prevUnknown = false;
                continue;
            }
            if (model.byteFallback()) {
                byte[] utf8 = Character.toString(cp).getBytes(StandardCharsets.UTF_8);
                boolean all = true;
                for (byte b : utf8) {
                    all &= byteTokens[b & 0xFF] >= 0;
                }
                if (all) {
                    for (byte b : utf8) {
                        symbols[n++] = byteTokens[b & 0xFF];
                    }
                    continue;
                }
            }
            if (model.unk() >= 0 && !(prevUnknown && model.fuseUnk())) {
                symbols[n++] = model.unk();
            }
            prevUnknown = model.unk() >= 0;
        }
        return n;
    }
}
