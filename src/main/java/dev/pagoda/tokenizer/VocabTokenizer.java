package dev.pagoda.tokenizer;

/**
 * What every tokenizer here shares: the vocabulary, BOS/EOS rules, special-token partitioning of the input,
 * and decoding through {@link Detokenizer}. Subclasses tokenize one raw-text fragment.
 */
abstract class VocabTokenizer implements Tokenizer {
    final Vocabulary vocab;
    private final int bos;
    private final int eos;
    private final boolean addBos;
    private final boolean addEos;
    /** SentencePiece-style vocabularies drop the dummy-prefix space of a sequence's first piece when decoding. */
    private final Detokenizer.LeadingSpace leadingSpace;
    private final SpecialTokenSplitter splitter;

    VocabTokenizer(Vocabulary vocab, int bos, int eos, boolean addBos, boolean addEos,
                   Detokenizer.LeadingSpace leadingSpace) {
        this.vocab = vocab;
        this.bos = bos;
        this.eos = eos;
        this.addBos = addBos && bos >= 0;
        this.addEos = addEos && eos >= 0;
        this.leadingSpace = leadingSpace;
        this.splitter = SpecialTokenSplitter.of(vocab);
    }

    /**
     * Tokenizes one fragment of raw text into {@code out}.
     *
     * @param afterSpecial the fragment starts the input or follows a special token
     */
    abstract void encodeText(String text, boolean afterSpecial, IntList out);

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList(text.length() + 2);
        if (addSpecial && addBos) {
            out.add(bos);
        }
        boolean afterSpecial = true;
        for (SpecialTokenSplitter.Fragment f : splitter.split(text, parseSpecial)) {
            if (f.isText()) {
                encodeText(text.substring(f.start(), f.end()), afterSpecial, out);
                afterSpecial = false;
            } else {
                out.add(f.token());
                afterSpecial = true;
            }
        }
        if (addSpecial && addEos) {
            out.add(eos);
        }
        return out.toArray();
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bosId() {
        return bos;
    }

    @Override
    public int eosId() {
        return eos;
    }

    @Override
    public boolean isSpecial(int id) {
        vocab.checkId(id);
        return vocab.isSpecial(id);
    }

    @Override
    public String piece(int id) {
        return vocab.piece(id);
    }

    @Override
    public byte[] tokenBytes(int id) {
        vocab.checkId(id);
        return vocab.bytes(id).clone();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecial) {
        Detokenizer d = newDetokenizer(skipSpecial);
        StringBuilder out = new StringBuilder(ids.length * 4);
        for (int id : ids) {
            d.append(id, out);
        }
        d.finish(out);
        return out.toString();
    }

    @Override
    public Detokenizer newDetokenizer(boolean skipSpecial) {
        return new Detokenizer(vocab, skipSpecial, leadingSpace);
    }
}
