package dev.pagoda.cli;

import dev.pagoda.kernel.TensorType;
import dev.pagoda.kernel.WeightMatrix;
import dev.pagoda.kv.KvDtype;
import dev.pagoda.kv.KvShape;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelConfig;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "info", mixinStandardHelpOptions = true, description = "Describes a model: architecture, shapes, tensor types, sizes, chat template, KV bytes per token.")
final class InfoCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelArgument model;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (Model m = model.open()) {
            ModelConfig c = m.config();
            Map<TensorType, long[]> byType = new TreeMap<>();
            m.weights().matrices().forEach(w -> {
                long[] a = byType.computeIfAbsent(w.type(), t -> new long[2]);
                a[0]++;
                a[1] += w.byteSize();
            });
            StringBuilder types = new StringBuilder();
            byType.forEach((t, a) -> types.append(types.isEmpty() ? "" : ", ").append(t).append(" x").append(a[0])
                    .append(" (").append(Units.bytes(a[1])).append(')'));
            out.printf("model:          %s%n", m.name());
            out.printf("source:         %s (%s)%n", m.source(), m.format());
            out.printf("architecture:   %s%n", c.architecture());
            out.printf("layers:         %d%n", c.layers());
            out.printf("dim:            %d (ffn %d)%n", c.dim(), c.hiddenDim());
            out.printf("heads:          %d query, %d key/value (head size %d)%n", c.heads(), c.kvHeads(), c.headDim());
            out.printf("vocabulary:     %d (tokenizer %d; bos %d, eos %d)%n", c.vocabSize(), m.tokenizer().vocabSize(),
                    m.tokenizer().bosId(), m.tokenizer().eosId());
            out.printf("context length: %d%n", c.contextLength());
            out.printf("rope:           %s%n", c.rope());
            out.printf("features:       %s%n", c.features().isEmpty() ? "none (plain Llama)" : String.join("; ", c.features()));
            out.printf("norm eps:       %s%n", c.normEps());
            out.printf("embeddings:     %s%n", m.weights().tiedEmbeddings() ? "tied (output = token embedding)" : "separate output matrix");
            out.printf("parameters:     %,d%n", m.parameterCount());
            out.printf("weights:        %s (%,d bytes)%n", Units.bytes(m.weightBytes()), m.weightBytes());
            out.printf("tensor types:   %s%n", types);
            WeightMatrix e = m.weights().tokenEmbedding();
            out.printf("embedding:      %s %dx%d%n", e.type(), e.rows(), e.cols());
            out.printf("stop tokens:    %s%n", Arrays.toString(m.stopTokens()));
            out.printf("chat template:  %s%n", m.chatTemplate() == null || m.chatTemplate().isBlank()
                    ? "none (chat and /v1/chat/completions use plain 'role: content' lines; --chat-template sets one)"
                    : "yes (" + m.chatTemplate().length() + " characters)");
            long f32 = new KvShape(c.layers(), c.kvHeads(), c.headDim(), KvShape.DEFAULT_BLOCK_SIZE, KvDtype.F32).bytesPerToken();
            long f16 = new KvShape(c.layers(), c.kvHeads(), c.headDim(), KvShape.DEFAULT_BLOCK_SIZE, KvDtype.F16).bytesPerToken();
            out.printf("KV per token:   %s in f32, %s in f16/bf16 (2 x %d layers x %d heads x %d); full context: %s in f32%n",
                    Units.bytes(f32), Units.bytes(f16), c.layers(), c.kvHeads(), c.headDim(), Units.bytes(f32 * c.contextLength()));
        }
        out.flush();
        return 0;
    }
}
