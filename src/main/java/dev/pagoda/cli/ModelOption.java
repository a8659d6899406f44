package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import picocli.CommandLine.Option;

/** The shared {@code --model} option: a file, a folder, or a short name in the model folders. */
class ModelOption {
    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "Model file (.gguf, llama2.c .bin), Hugging Face folder, or short name looked up in "
                    + "$PAGODA_MODELS, ./models and ../shared/models, or synth:SHAPE:DTYPE[:SEED] built in memory (default: "
                    + ModelLoader.DEFAULT_MODEL + ", shipped in models/).")
    String model;

    /** The model named as a positional parameter, for the commands that take one ({@link ModelArgument}). */
    String positional() {
        return null;
    }

    /** The model the user named, once, or the default. */
    String spec() {
        String p = positional();
        if (p != null && model != null && !p.equals(model)) {
            throw new PagodaException("the model is given twice: '" + p + "' and --model '" + model + "'");
        }
        return p != null ? p : model != null ? model : ModelLoader.DEFAULT_MODEL;
    }

    Model open() {
        return ModelLoader.load(spec());
    }
}
