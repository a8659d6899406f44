package dev.pagoda.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Progress bars on stderr, one style for every long command. */
final class TerminalProgress {
    private TerminalProgress() {
    }

    /** A bar builder for a task: colours and block characters only on a terminal, plain ASCII in logs. */
    static ProgressBarBuilder builder(String task) {
        ProgressBarStyle style = System.console() != null && System.console().isTerminal()
                ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK : ProgressBarStyle.ASCII;
        return new ProgressBarBuilder().setTaskName(task).setStyle(style).setConsumer(new ConsoleProgressBarConsumer(System.err))
                .setUpdateIntervalMillis(250);
    }
}
