package dev.railyard.testkit;

/**
 * A command exited with a non-zero status. The message carries the command line, the exit code and
 * stderr, because a test failure that only says "exit code 2" sends the reader back to reproduce it.
 */
public class CommandFailedException extends RuntimeException {

    private final transient CommandResult result;

    public CommandFailedException(CommandResult result) {
        super(message(result));
        this.result = result;
    }

    protected CommandFailedException(String message, CommandResult partialResult) {
        super(message);
        this.result = partialResult;
    }

    public CommandResult result() {
        return result;
    }

    private static String message(CommandResult result) {
        StringBuilder sb = new StringBuilder()
                .append("command failed with exit code ").append(result.exitCode())
                .append(": ").append(result.commandLine());
        appendOutput(sb, "stderr", result.stderr());
        appendOutput(sb, "stdout", result.stdout());
        return sb.toString();
    }

    static void appendOutput(StringBuilder sb, String label, String text) {
        if (text == null || text.isBlank()) {
            return;
        }
        String trimmed = text.strip();
        int limit = 4000;
        if (trimmed.length() > limit) {
            trimmed = trimmed.substring(0, limit) + "... (" + (trimmed.length() - limit) + " more chars)";
        }
        sb.append("\n--- ").append(label).append(" ---\n").append(trimmed);
    }
}
