package dev.railyard.testkit;

import java.time.Duration;
import java.util.List;

/**
 * The outcome of one finished command: what ran, how it exited and everything it printed.
 */
public record CommandResult(List<String> command, int exitCode, String stdout, String stderr, Duration elapsed) {

    public CommandResult {
        command = List.copyOf(command);
    }

    public boolean succeeded() {
        return exitCode == 0;
    }

    /** Returns this result, or throws {@link CommandFailedException} carrying stderr if the exit code is not 0. */
    public CommandResult requireSuccess() {
        if (!succeeded()) {
            throw new CommandFailedException(this);
        }
        return this;
    }

    /** The command as a shell-like line, for messages only (not safe to paste into a shell). */
    public String commandLine() {
        return Commands.describe(command);
    }
}
