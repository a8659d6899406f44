package dev.pagoda.cli;

import dev.pagoda.model.SyntheticDtype;
import dev.pagoda.model.SyntheticModel;
import dev.pagoda.model.SyntheticShape;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Writes a random-weight Llama GGUF with a byte-level BPE vocabulary, for benchmarks.",
                "Shapes: tiny (stories260K's), llama-76m (dim 768, 12 layers, 12/4 heads, FFN 2048, vocab 32000, context 2048),",
                "llama-1b (dim 2048, 16 layers, 32/8 heads, FFN 8192, vocab 128256, context 4096)."})
final class SynthCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", required = true, description = "tiny, llama-76m or llama-1b.")
    String shape;

    @Option(names = "--dtype", defaultValue = "f32", description = "f32, f16, bf16, q8_0, q4_0 or q4_k_m (Q4_K with Q6_K for the output head and some attn_v/ffn_down, as llama-quantize mixes them) (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--out", required = true, description = "The .gguf file to write.")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the weights and vocabulary (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        long t0 = System.nanoTime();
        SyntheticModel.write(SyntheticShape.parse(shape), SyntheticDtype.parse(dtype), seed, out);
        spec.commandLine().getOut().printf("wrote %s (%s) in %.1f s%n", out, Units.bytes(out.toFile().length()), (System.nanoTime() - t0) / 1e9);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
