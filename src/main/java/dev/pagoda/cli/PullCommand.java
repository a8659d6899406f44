package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.hub.HubConfig;
import dev.pagoda.hub.Pull;
import dev.pagoda.hub.RepoSpec;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Downloads a model from the Hugging Face hub into the hub's cache.",
                "The cache is $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub, shared with huggingface-cli"
                        + " and vLLM; --model ORG/NAME then opens the model from there.",
                "ORG/NAME fetches a safetensors folder (config, tokenizer, weights) or the repo's only GGUF file;"
                        + " ORG/NAME:Q4_K_M the GGUF file whose name contains Q4_K_M; ORG/NAME:FILE one file.",
                "Resumes partial downloads, verifies each file's checksum, skips what is cached. Honours HF_TOKEN, HF_ENDPOINT,"
                        + " HF_HUB_OFFLINE. Prints the model's local path on stdout."})
final class PullCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "REPO[:FILE_OR_QUANT]", description = "The model, e.g. Qwen/Qwen2.5-0.5B-Instruct or bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M.")
    String model;

    @Option(names = "--revision", paramLabel = "REV", defaultValue = "main", description = "Branch, tag or commit (default: ${DEFAULT-VALUE}).")
    String revision;

    @Option(names = "--max-workers", paramLabel = "N", defaultValue = "8", description = "Files downloaded at once, at most (default: ${DEFAULT-VALUE}).")
    int maxWorkers;

    @Override
    public Integer call() {
        if (maxWorkers < 1) {
            throw new PagodaException("--max-workers must be at least 1, got " + maxWorkers);
        }
        RepoSpec repo = RepoSpec.parse(model);
        HubConfig config = HubConfig.fromEnv(System.getenv());
        Pull.Result result;
        try (Bar bar = new Bar(repo.toString())) {
            result = Pull.run(config, repo, revision, maxWorkers, bar);
        }
        PrintWriter err = spec.commandLine().getErr();
        String at = repo + " at " + result.commit().substring(0, 12);
        if (config.offline()) {
            err.printf("pagoda pull: %s is in the cache (HF_HUB_OFFLINE is set: the hub was not asked)%n", at);
        } else if (result.downloaded() == 0) {
            err.printf("pagoda pull: %s: all %d files already in the cache%n", at, result.files());
        } else {
            err.printf("pagoda pull: %s: %d files, downloaded %d (%s)%n", at, result.files(), result.downloaded(), Units.bytes(result.bytes()));
        }
        err.flush();
        spec.commandLine().getOut().println(result.path());
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** The byte progress of a pull on stderr, shown only when there is something to download. */
    private static final class Bar implements Pull.Progress, AutoCloseable {
        private final String task;
        private volatile ProgressBar bar;

        Bar(String task) {
            this.task = task;
        }

        @Override
        public void start(long totalBytes) {
            if (totalBytes > 0) {
                bar = TerminalProgress.builder(task).setInitialMax(totalBytes).setUnit(" MiB", 1 << 20).showSpeed().build();
            }
        }

        @Override
        public void advance(long bytes) {
            if (bar != null) {  // none for a download of empty files only
                bar.stepBy(bytes);
            }
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
