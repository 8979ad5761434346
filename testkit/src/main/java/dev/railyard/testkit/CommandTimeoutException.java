package dev.railyard.testkit;

import java.time.Duration;

/** A command did not finish in time and was killed; carries whatever it printed before that. */
public final class CommandTimeoutException extends CommandFailedException {

    private final Duration timeout;

    public CommandTimeoutException(CommandResult partialResult, Duration timeout) {
        super(message(partialResult, timeout), partialResult);
        this.timeout = timeout;
    }

    public Duration timeout() {
        return timeout;
    }

    private static String message(CommandResult partial, Duration timeout) {
        StringBuilder sb = new StringBuilder()
                .append("command did not finish within ").append(timeout.toMillis()).append(" ms and was killed: ")
                .append(partial.commandLine());
        appendOutput(sb, "stderr so far", partial.stderr());
        appendOutput(sb, "stdout so far", partial.stdout());
        return sb.toString();
    }
}
