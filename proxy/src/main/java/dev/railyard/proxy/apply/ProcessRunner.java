package dev.railyard.proxy.apply;

import dev.railyard.nftables.CommandRunner;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * Runs one iptables binary to completion through {@link CommandRunner} (output drained while stdin is written,
 * killed with its children past the timeout, so that it never holds the xtables lock), with failures to run it
 * as {@link IptablesException}s.
 */
public final class ProcessRunner {

    private ProcessRunner() {
    }

    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
    }

    /** Runs {@code command} to completion, feeding it {@code stdin} (null for none); killed after {@code timeout}. */
    public static Result run(List<String> command, RestoreInput stdin, Duration timeout)
            throws IptablesException, InterruptedException {
        try {
            CommandRunner.Result result = CommandRunner.run(command, stdin == null ? null : stdin::writeTo, timeout);
            return new Result(command, result.exitCode(), result.stdout(), result.stderr());
        } catch (IOException e) {
            throw new IptablesException(e.getMessage(), command, -1, "", e);
        }
    }
}
