package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.model.SyntheticDtype;
import dev.pagoda.model.SyntheticModel;
import dev.pagoda.model.SyntheticShape;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Writes a random-weight GGUF with a byte-level BPE vocabulary, for benchmarks.",
                "Shapes: tiny (stories260K's), llama-76m (dim 768, 12 layers, 12/4 heads, FFN 2048, vocab 32000, context 2048),",
                "llama-1b (dim 2048, 16 layers, 32/8 heads, FFN 8192, vocab 128256, context 4096),",
                "and one real-size shape per architecture (--arch): llama3-1b (Llama-3.2-1B, rope scaling), qwen2-0.5b (Qwen2.5-0.5B),",
                "qwen3-0.6b (Qwen3-0.6B), gemma2-2b (Gemma-2-2B), gemma3-1b (Gemma-3-1B), phi3-mini (Phi-3-mini)."})
final class SynthCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", description = "tiny, llama-76m, llama-1b, llama3-1b, qwen2-0.5b, qwen3-0.6b, gemma2-2b, gemma3-1b or phi3-mini.")
    String shape;

    @Option(names = "--arch", description = "llama, llama3, qwen2, qwen3, gemma2, gemma3 or phi3: that architecture's real-size shape "
            + "(llama: llama-1b), or with --shape, the architecture the shape must have.")
    String arch;

    @Option(names = "--dtype", defaultValue = "f32", description = "f32, f16, bf16, q8_0, q4_0, q4_k_m or q5_k_m (Q4_K or Q5_K with Q6_K for the output head and some attn_v/ffn_down, as llama-quantize mixes them) (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--out", required = true, description = "The .gguf file to write.")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the weights and vocabulary (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        long t0 = System.nanoTime();
        SyntheticShape s = shape != null ? SyntheticShape.parse(shape) : arch != null ? SyntheticShape.forArchitecture(arch) : null;
        if (s == null) {
            throw new PagodaException("give --shape or --arch (" + SyntheticShape.ARCHITECTURES + ")");
        }
        if (arch != null && !s.arch.equalsIgnoreCase(arch)) {
            throw new PagodaException("shape " + s.id + " is a " + s.arch + " model, not " + arch);
        }
        SyntheticModel.write(s, SyntheticDtype.parse(dtype), seed, out);
        spec.commandLine().getOut().printf("wrote %s (%s) in %.1f s%n", out, Units.bytes(out.toFile().length()), (System.nanoTime() - t0) / 1e9);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
