package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.hub.HubCache;
import dev.pagoda.hub.HubConfig;
import dev.pagoda.hub.RepoSpec;
import dev.pagoda.model.Model;
import dev.pagoda.model.ModelLoader;
import picocli.CommandLine.Option;

/** The shared {@code --model} option: a file, a folder, a short name in the model folders, or a Hugging Face id in the hub cache. */
class ModelOption {
    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "Model file (.gguf, llama2.c .bin), Hugging Face folder, or short name looked up in "
                    + "$PAGODA_MODELS, ./models and ../shared/models, or ORG/NAME[:FILE_OR_QUANT] in the Hugging Face cache "
                    + "(see pagoda pull), or synth:SHAPE:DTYPE[:SEED] built in memory (default: "
                    + ModelLoader.DEFAULT_MODEL + ", shipped in models/).")
    String model;

    @Option(names = "--revision", paramLabel = "REV", defaultValue = "main",
            description = "For a Hugging Face id: the branch, tag or commit to open from the cache (default: ${DEFAULT-VALUE}).")
    String revision;

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
        return open(HubConfig.fromEnv(System.getenv()));
    }

    /**
     * Local names come first, so a folder that happens to look like ORG/NAME is used as it is. A hub id is opened
     * from the cache only (never downloaded here) and takes that id as its name, as clients will ask for it.
     */
    Model open(HubConfig hub) {
        String spec = spec();
        RepoSpec repo = RepoSpec.parseOrNull(spec);
        if (repo == null || ModelLoader.find(spec).isPresent()) {
            return ModelLoader.load(spec);
        }
        return ModelLoader.open(new HubCache(hub.cache()).find(repo, revision).orElseThrow(() -> new PagodaException("model '" + spec
                + "' not found: not a local file or folder, and not in the Hugging Face cache " + hub.cache() + " at revision '"
                + revision + "' (pagoda pull " + spec + (revision.equals("main") ? "" : " --revision " + revision) + " fetches it)")))
                .withName(spec);
    }
}
