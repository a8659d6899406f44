package dev.pagoda.model;

import dev.pagoda.PagodaException;
import java.util.List;

/**
 * Shapes of random-weight benchmark models: Llama shapes, and one real-size shape per architecture (the matrices of
 * Llama-3.2-1B, Qwen2.5-0.5B, Qwen3-0.6B, Gemma-2-2B, Gemma-3-1B and Phi-3-mini; contexts capped at 8192).
 * {@code arch} is "llama", "llama3" (a llama with Llama 3.1 rope scaling), "qwen2", "qwen3", "gemma2", "gemma3" or "phi3".
 */
public final class SyntheticShape {
    /** stories260K's shape. */
    public static final SyntheticShape TINY = new SyntheticShape("tiny", "llama", 64, 172, 5, 8, 4, 8, 512, 512, 0);
    public static final SyntheticShape LLAMA_76M = new SyntheticShape("llama-76m", "llama", 768, 2048, 12, 12, 4, 64, 32000, 2048, 0);
    /** llama-76m's body with a Llama 3 sized vocabulary: what guided decoding's masks cost at 128k tokens. */
    public static final SyntheticShape LLAMA_76M_V128K = new SyntheticShape("llama-76m-v128k", "llama", 768, 2048, 12, 12, 4, 64, 128256, 2048, 0);
    public static final SyntheticShape LLAMA_1B = new SyntheticShape("llama-1b", "llama", 2048, 8192, 16, 32, 8, 64, 128256, 4096, 0);
    public static final SyntheticShape LLAMA3_1B = new SyntheticShape("llama3-1b", "llama3", 2048, 8192, 16, 32, 8, 64, 128256, 8192, 0);
    public static final SyntheticShape QWEN2_05B = new SyntheticShape("qwen2-0.5b", "qwen2", 896, 4864, 24, 14, 2, 64, 151936, 8192, 0);
    public static final SyntheticShape QWEN3_06B = new SyntheticShape("qwen3-0.6b", "qwen3", 1024, 3072, 28, 16, 8, 128, 151936, 8192, 0);
    public static final SyntheticShape GEMMA2_2B = new SyntheticShape("gemma2-2b", "gemma2", 2304, 9216, 26, 8, 4, 256, 256000, 8192, 4096);
    public static final SyntheticShape GEMMA3_1B = new SyntheticShape("gemma3-1b", "gemma3", 1152, 6912, 26, 4, 1, 256, 262144, 8192, 512);
    public static final SyntheticShape PHI3_MINI = new SyntheticShape("phi3-mini", "phi3", 3072, 8192, 32, 32, 32, 96, 32064, 4096, 2047);
    private static final List<SyntheticShape> NAMED = List.of(TINY, LLAMA_76M, LLAMA_76M_V128K, LLAMA_1B, LLAMA3_1B, QWEN2_05B, QWEN3_06B, GEMMA2_2B,
            GEMMA3_1B, PHI3_MINI);

    /** The architectures {@code pagoda synth --arch} knows, each with its default shape. */
    public static final String ARCHITECTURES = "llama, llama3, qwen2, qwen3, gemma2, gemma3, phi3";

    public final String id;
    public final String arch;
    public final int dim, hiddenDim, layers, heads, kvHeads, headDim, vocab, context;
    /** Sliding window of the architecture's windowed layers; 0: none. */
    public final int window;

    /** Any shape (tests use small ones of each architecture); the named ones are the constants. */
    public SyntheticShape(String id, String arch, int dim, int hiddenDim, int layers, int heads, int kvHeads, int headDim,
                   int vocab, int context, int window) {
        if (!List.of(ARCHITECTURES.split(", ")).contains(arch)) {
            throw new PagodaException("unknown architecture '" + arch + "' (known: " + ARCHITECTURES + ")");
        }
        this.id = id;
        this.arch = arch;
        this.dim = dim;
        this.hiddenDim = hiddenDim;
        this.layers = layers;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.vocab = vocab;
        this.context = context;
        this.window = window;
    }

    public int headDim() {
        return headDim;
    }

    /** A plain Llama: the only kind {@link SyntheticModelBuilder} builds in memory. */
    public boolean plainLlama() {
        return arch.equals("llama");
    }

    public static List<SyntheticShape> values() {
        return NAMED;
    }

    public static SyntheticShape parse(String name) {
        return parse(name, NAMED);
    }

    /** A Llama shape, the kind {@link SyntheticModelBuilder} builds in memory. */
    static SyntheticShape parseLlama(String name) {
        return parse(name, NAMED.stream().filter(SyntheticShape::plainLlama).toList());
    }

    private static SyntheticShape parse(String name, List<SyntheticShape> known) {
        for (SyntheticShape s : known) {
            if (s.id.equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new PagodaException("unknown shape '" + name + "' (known: " + known.stream().map(s -> s.id).toList() + ")");
    }

    /** The real-size shape of an architecture ({@code llama}: llama-1b). */
    public static SyntheticShape forArchitecture(String arch) {
        for (SyntheticShape s : new SyntheticShape[] {LLAMA_1B, LLAMA3_1B, QWEN2_05B, QWEN3_06B, GEMMA2_2B, GEMMA3_1B, PHI3_MINI}) {
            if (s.arch.equalsIgnoreCase(arch)) {
                return s;
            }
        }
        throw new PagodaException("unknown architecture '" + arch + "' (known: " + ARCHITECTURES + ")");
    }
}
