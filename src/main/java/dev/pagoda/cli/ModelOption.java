package dev.pagoda.cli;

import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import picocli.CommandLine.Option;

/** The shared {@code --model} option: a file, a folder, or a short name in the model folders. */
final class ModelOption {
    @Option(names = {"-m", "--model"}, paramLabel = "M", defaultValue = ModelLoader.DEFAULT_MODEL,
            description = "Model file (.gguf, llama2.c .bin), Hugging Face folder, or short name looked up in "
                    + "$PAGODA_MODELS, ./models and ../shared/models, or synth:SHAPE:DTYPE[:SEED] built in memory (default: ${DEFAULT-VALUE}).")
    String model;

    Model open() {
        return ModelLoader.load(model);
    }
}
