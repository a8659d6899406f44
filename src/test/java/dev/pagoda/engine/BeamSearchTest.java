package dev.pagoda.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pagoda.attention.DenseKvAttention;
import dev.pagoda.attention.PagedAttentionBackend;
import dev.pagoda.kernel.WorkerPool;
import dev.pagoda.kv.KvAllocator;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvLayout;
import dev.pagoda.kv.KvMemory;
import dev.pagoda.kv.KvSequence;
import dev.pagoda.kv.KvShape;
import dev.pagoda.model.ForwardBatch;
import dev.pagoda.model.Model;
import dev.pagoda.model.Transformer;
import dev.pagoda.sampling.BeamSearchParams;
import dev.pagoda.sampling.TokenLogprobs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Beam search through shared, copy-on-write blocks returns exactly the beams of a plain beam search written
 * here, which recomputes every beam from scratch in blocks of its own, and needs fewer blocks at its peak.
 */
class BeamSearchTest {
    static final int WIDTH = 4;
    static final int TOKENS = 40;
    static final int BLOCK = 16;

    record Beam(int[] tokens, double cum) {
    }

    @Test
    void sharedBeamsEqualAPlainReference() throws Exception {
        BeamSearchParams params = new BeamSearchParams(WIDTH, 1.0f, BeamSearchParams.EarlyStopping.FALSE, TOKENS, false);
        int[] prompt;
        List<Beam> reference;
        try (Model m = EngineFixtures.stories()) {
            prompt = m.tokenizer().encode("Once upon a time", true, false);
            reference = plainBeamSearch(m, prompt, params);
        }
        try (LLM llm = LLM.of(EngineFixtures.stories(), EngineConfig.builder().blockSize(BLOCK).kvCacheMemory(4L << 20).maxNumSeqs(8).build())) {
            RequestResult r = llm.engine().addBeamSearch("beam", prompt, params).result().join();
            assertThat(r.outputs()).hasSize(WIDTH);
            for (int i = 0; i < WIDTH; i++) {
                assertThat(r.outputs().get(i).tokenIds()).as("beam %d", i).containsExactly(reference.get(i).tokens());
                assertThat(r.outputs().get(i).cumulativeLogprob()).isEqualTo(reference.get(i).cum());
            }
            int unsharedPeak = 0;
            for (Beam b : reference) {
                unsharedPeak += (prompt.length + b.tokens().length + BLOCK - 1) / BLOCK;
            }
            int peak = llm.engine().stats().peakBlocksUsed();
            assertThat(peak).as("peak blocks with sharing vs %d without", unsharedPeak).isLessThan(unsharedPeak);
            EngineFixtures.assertAllFree(llm.engine());
        }
    }

    /**
     * Four beam searches in a KV cache too small for them together: requests are preempted whole and come back
     * whole, so idle beams never hold the blocks a sibling needs (that deadlocked). The beams equal those of a
     * cache big enough for all. Each request alone fits even with its beams as private copies (28 of 32 blocks).
     */
    @Test
    void beamsUnderMemoryPressureEqualThoseOfABigCache() throws Exception {
        BeamSearchParams params = new BeamSearchParams(WIDTH, 1.0f, BeamSearchParams.EarlyStopping.FALSE, 20, false);
        List<String> prompts = List.of("Once upon a time", "The cat", "Tim was sad", "A big bear");
        EngineConfig big = EngineConfig.builder().blockSize(4).kvCacheMemory(4L << 20).maxNumSeqs(16).build();
        List<RequestResult> reference = beamSearches(big, prompts, params);
        List<RequestResult> tight = beamSearches(big.toBuilder().kvCacheMemory(32 * 4 * 1280L).build(), prompts, params);
        for (int p = 0; p < prompts.size(); p++) {
            assertThat(tight.get(p).outputs()).hasSize(WIDTH);
            for (int i = 0; i < WIDTH; i++) {
                CompletionOutput want = reference.get(p).outputs().get(i), got = tight.get(p).outputs().get(i);
                assertThat(got.tokenIds()).as("prompt %d beam %d", p, i).containsExactly(want.tokenIds());
                assertThat(got.cumulativeLogprob()).isEqualTo(want.cumulativeLogprob());
                assertThat(got.finishReason()).isEqualTo(want.finishReason());
            }
        }
    }

    /** The results of beam searches over all prompts at once; checks that every block is back in the pool. */
    private static List<RequestResult> beamSearches(EngineConfig config, List<String> prompts, BeamSearchParams params) throws Exception {
        try (LLM llm = LLM.of(EngineFixtures.stories(), config)) {
            List<RequestHandle> handles = new ArrayList<>();
            try (EngineGate gate = new EngineGate(llm.engine())) { // all admitted at one step boundary
                for (String p : prompts) {
                    handles.add(llm.engine().addBeamSearch(p, llm.engine().model().tokenizer().encode(p, true, false), params));
                }
            }
            List<RequestResult> results = new ArrayList<>();
            for (RequestHandle h : handles) {
                // A hang guard, not a speed limit: the deadlock this tests never returned.
                results.add(h.result().get(2, TimeUnit.MINUTES));
            }
            if (config.kvCacheMemory() < (1 << 20)) {
                assertThat(llm.engine().stats().preemptions()).as("the small cache preempts").isPositive();
            }
            EngineFixtures.assertAllFree(llm.engine());
            return results;
        }
    }

    /** Beam search without any sharing: each beam's logits come from a fresh prefill of its whole sequence. */
    static List<Beam> plainBeamSearch(Model m, int[] prompt, BeamSearchParams p) {
        int vocab = m.config().vocabSize();
        List<Beam> beams = new ArrayList<>(List.of(new Beam(new int[0], 0)));
        List<Beam> finished = new ArrayList<>();
        int[] scratch = new int[vocab];
        for (int step = 0; step < p.maxTokens(); step++) {
            record Cand(int beam, int token, double cum) {
            }
            List<Cand> cands = new ArrayList<>();
            for (int b = 0; b < beams.size(); b++) {
                int[] seq = concat(prompt, beams.get(b).tokens());
                float[] logits = logitsOf(m, seq);
                TokenLogprobs t = TokenLogprobs.of(logits, 0, vocab, 0, 2 * p.beamWidth(), scratch);
                for (int i = 0; i < t.topIds().length; i++) {
                    cands.add(new Cand(b, t.topIds()[i], beams.get(b).cum() + t.topLogprobs()[i]));
                }
            }
            cands.sort(Comparator.comparingDouble((Cand c) -> -c.cum()).thenComparingInt(Cand::beam).thenComparingInt(Cand::token));
            List<Beam> next = new ArrayList<>();
            for (int rank = 0; rank < cands.size() && next.size() < p.beamWidth(); rank++) {
                Cand c = cands.get(rank);
                int[] tokens = Arrays.copyOf(beams.get(c.beam()).tokens(), beams.get(c.beam()).tokens().length + 1);
                tokens[tokens.length - 1] = c.token();
                if (m.isStopToken(c.token())) {
                    if (rank < p.beamWidth()) {
                        finished.add(new Beam(tokens, c.cum()));
                    }
                } else {
                    next.add(new Beam(tokens, c.cum()));
                }
            }
            beams = next;
            boolean last = step == p.maxTokens() - 1 || beams.isEmpty();
            if (!last && finished.size() >= p.beamWidth()) {
                double best = beams.stream().mapToDouble(Beam::cum).max().orElse(0);
                double worstKept = finished.stream().mapToDouble(b -> score(p, b, prompt.length, m)).sorted()
                        .toArray()[finished.size() - p.beamWidth()];
                last = worstKept >= p.score(best, prompt.length + beams.get(0).tokens().length);
                if (last) {
                    beams = List.of();
                }
            }
            if (last) {
                finished.addAll(beams);
                break;
            }
        }
        finished.sort(Comparator.comparingDouble(b -> -score(p, b, prompt.length, m)));
        return finished.subList(0, Math.min(p.beamWidth(), finished.size()));
    }

    static double score(BeamSearchParams p, Beam b, int promptLength, Model m) {
        int n = b.tokens().length;
        boolean eos = n > 0 && m.isStopToken(b.tokens()[n - 1]);
        return p.score(b.cum(), promptLength + n - (eos ? 1 : 0));
    }

    /** The logits after the last token of {@code seq}, from a prefill into blocks of its own. */
    static float[] logitsOf(Model m, int[] seq) {
        var c = m.config();
        KvShape shape = new KvShape(c.layers(), c.kvHeads(), c.headDim(), BLOCK, KvDtype.F32);
        try (KvMemory memory = KvMemory.ofBlocks(shape, (seq.length + BLOCK - 1) / BLOCK)) {
            KvAllocator alloc = KvAllocator.create(KvLayout.PAGED, memory);
            KvSequence kv = alloc.admit(seq.length, seq.length);
            Transformer tf = new Transformer(m, seq.length);
            PagedAttentionBackend attention = new PagedAttentionBackend(memory, c.heads(), WorkerPool.shared());
            ForwardBatch<KvSequence> batch = new ForwardBatch<>(seq.length, 1);
            batch.addSequence(kv, seq, 0, seq.length, 0, true);
            float[] logits = new float[c.vocabSize()];
            tf.forward(batch, attention, logits);
            kv.free();
            return logits;
        }
    }

    /** Logits at every position of {@code seq}, one token at a time through the dense reference cache. */
    static float[][] logitsPerPosition(Model m, int[] seq) {
        var c = m.config();
        Transformer tf = new Transformer(m, 1);
        var kv = new DenseKvAttention(c, 1, seq.length);
        ForwardBatch<Integer> batch = new ForwardBatch<>(1, 1);
        float[][] out = new float[seq.length][c.vocabSize()];
        for (int p = 0; p < seq.length; p++) {
            batch.clear();
            batch.addSequence(0, seq, p, 1, p, true);
            tf.forward(batch, kv, out[p]);
        }
        return out;
    }

    static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
