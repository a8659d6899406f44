package dev.pagoda.cli;

import dev.pagoda.PagodaException;
import dev.pagoda.model.Model;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --chat-template}: a Jinja template used instead of the model's own (serve and chat). */
final class ChatTemplateOption {
    @Option(names = "--chat-template", paramLabel = "FILE",
            description = "Jinja chat template to use instead of the model's own: a file, or the template text itself (as in vLLM).")
    String chatTemplate;

    /** The model with the template this option names, or the model itself when none is given. */
    Model applyTo(Model model) {
        if (chatTemplate == null) {
            return model;
        }
        Path file = Path.of(chatTemplate);
        if (Files.isRegularFile(file)) {
            try {
                return model.withChatTemplate(Files.readString(file));
            } catch (IOException e) {
                throw new PagodaException("--chat-template: cannot read " + file + ": " + e.getMessage());
            }
        }
        if (chatTemplate.contains("{{") || chatTemplate.contains("{%")) {
            return model.withChatTemplate(chatTemplate);
        }
        throw new PagodaException("--chat-template: no such file '" + chatTemplate + "' (and not a template: no {{ or {%)");
    }
}
