package dev.pagoda.cli;

import picocli.CommandLine.Parameters;

/** {@code --model}, or the model as the command's positional parameter, as in {@code vllm serve MODEL}. */
final class ModelArgument extends ModelOption {
    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL", description = "The model, as --model.")
    String positional;

    @Override
    String positional() {
        return positional;
    }
}
