package dev.pagoda.engine;

import dev.pagoda.constraint.Constraint;
import dev.pagoda.constraint.TokenMatcher;
import dev.pagoda.constraint.VocabularyTrie;
import dev.pagoda.model.Model;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Guided decoding: each constraint over this model's vocabulary, made once on a caller's thread (the vocabulary
 * trie once per engine) and shared by every request that uses it; the engine thread alone then grows its
 * automaton and masks.
 */
final class ConstraintMatchers {
    private final Model model;
    private final Map<Constraint, TokenMatcher> matchers = new ConcurrentHashMap<>();
    private volatile VocabularyTrie trie;

    ConstraintMatchers(Model model) {
        this.model = model;
    }

    TokenMatcher of(Constraint c) {
        VocabularyTrie t = trie;
        if (t == null) {
            synchronized (matchers) {
                if (trie == null) {
                    trie = VocabularyTrie.of(model.tokenizer(), model.config().vocabSize());
                }
                t = trie;
            }
        }
        VocabularyTrie vocabulary = t;
        return matchers.computeIfAbsent(c, k -> new TokenMatcher(k, vocabulary, model.stopTokens()));
    }
}
