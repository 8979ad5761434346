package dev.railyard.proxy.apply;

import java.util.List;
import java.util.OptionalInt;

/**
 * iptables-restore rejected its input. When it named the offending line, {@link #failedLine()} has the number
 * and {@link #excerpt()} the input around it, because stderr alone ("line 4812 failed") is useless without
 * the generated ruleset, which is gone by the time someone reads the log.
 */
public final class IptablesRestoreException extends IptablesException {

    private static final long serialVersionUID = 1L;

    private final Integer failedLine;
    private final List<InputLine> excerpt;

    public IptablesRestoreException(List<String> command, int exitCode, String stderr, OptionalInt failedLine,
                                    List<InputLine> excerpt) {
        super(message(command, exitCode, stderr, failedLine, excerpt), command, exitCode, stderr);
        this.failedLine = failedLine.isPresent() ? failedLine.getAsInt() : null;
        this.excerpt = List.copyOf(excerpt);
    }

    /** The 1-based input line iptables-restore complained about, if it said. */
    public OptionalInt failedLine() {
        return failedLine == null ? OptionalInt.empty() : OptionalInt.of(failedLine);
    }

    /** The failed line with its neighbours (empty when no line was reported). */
    public List<InputLine> excerpt() {
        return excerpt;
    }

    private static String message(List<String> command, int exitCode, String stderr, OptionalInt failedLine,
                                  List<InputLine> excerpt) {
        StringBuilder sb = new StringBuilder(String.join(" ", command)).append(" failed with exit code ").append(exitCode);
        if (failedLine.isPresent()) {
            sb.append(" at input line ").append(failedLine.getAsInt());
        }
        sb.append(": ").append(stderr.strip());
        for (InputLine line : excerpt) {
            sb.append("\n  ").append(line.number() == failedLine.orElse(-1) ? "> " : "  ").append(line);
        }
        return sb.toString();
    }
}
