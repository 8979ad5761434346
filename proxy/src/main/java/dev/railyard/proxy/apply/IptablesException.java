package dev.railyard.proxy.apply;

import java.util.List;

/**
 * An iptables command could not be run or reported failure. Carries the command line, the exit code (-1 if
 * it never ran to completion) and stderr, so that a log line alone is enough to diagnose a failure on a node.
 */
public class IptablesException extends Exception {

    private static final long serialVersionUID = 1L;

    private final List<String> command;
    private final int exitCode;
    private final String stderr;

    public IptablesException(String message, List<String> command, int exitCode, String stderr) {
        this(message, command, exitCode, stderr, null);
    }

    public IptablesException(String message, List<String> command, int exitCode, String stderr, Throwable cause) {
        super(message, cause);
        this.command = List.copyOf(command);
        this.exitCode = exitCode;
        this.stderr = stderr == null ? "" : stderr;
    }

    public List<String> command() {
        return command;
    }

    /** The exit status, or -1 when the command could not be started or was killed after a timeout. */
    public int exitCode() {
        return exitCode;
    }

    public String stderr() {
        return stderr;
    }
}
