package dev.pagoda.bench;

import dev.pagoda.PagodaException;
import dev.pagoda.tokenizer.Tokenizer;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Prompt token ids drawn uniformly from a vocabulary's ordinary (non-special) tokens, from a stream of their own so
 * that a workload's lengths stay those its seed gives elsewhere (e.g. in the memory benchmark).
 */
final class RandomPrompts {
    private final int[] ids;
    private final SplittableRandom rnd;

    RandomPrompts(Tokenizer vocabulary, long seed) {
        ids = IntStream.range(0, vocabulary.vocabSize()).filter(id -> !vocabulary.isSpecial(id)).toArray();
        if (ids.length == 0) {
            throw new PagodaException("the vocabulary has no ordinary tokens to build prompts from");
        }
        rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
    }

    int[] next(int length) {
        int[] t = new int[length];
        for (int i = 0; i < length; i++) {
            t[i] = ids[rnd.nextInt(ids.length)];
        }
        return t;
    }
}
