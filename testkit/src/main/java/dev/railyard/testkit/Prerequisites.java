package dev.railyard.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Probes the machine for what {@link RequiresPrivileges} asks for and describes what is missing. The netns
 * probe really creates and deletes a namespace (once per JVM) because being root is not enough inside an
 * unprivileged container.
 */
public final class Prerequisites {

    private static volatile Optional<String> netnsProblem;

    private Prerequisites() {
    }

    /** Descriptions of everything missing, empty if all is present. */
    public static List<String> missing(boolean root, boolean netns, String... commands) {
        List<String> missing = new ArrayList<>();
        if (root) {
            long uid = effectiveUid();
            if (uid != 0) {
                missing.add("root (running as uid " + (uid < 0 ? "unknown" : uid) + ")");
            }
        }
        for (String command : commands) {
            if (Commands.locate(command).isEmpty()) {
                missing.add("command '" + command + "' (not on PATH or in /usr/sbin, /sbin)");
            }
        }
        if (netns) {
            netnsProblem().ifPresent(problem -> missing.add("ip netns (" + problem + ")"));
        }
        return missing;
    }

    /** The effective uid from /proc/self/status, or -1 if it cannot be read. */
    public static long effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).strip().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static Optional<String> netnsProblem() {
        Optional<String> cached = netnsProblem;
        if (cached == null) {
            synchronized (Prerequisites.class) {
                if (netnsProblem == null) {
                    netnsProblem = probeNetns();
                }
                cached = netnsProblem;
            }
        }
        return cached;
    }

    private static Optional<String> probeNetns() {
        if (Commands.locate("ip").isEmpty()) {
            return Optional.of("the 'ip' command from iproute2 is not installed");
        }
        try (NetworkNamespace probe = NetworkNamespace.create()) {
            probe.execChecked("true");
            return Optional.empty();
        } catch (CommandFailedException e) {
            CommandResult result = e.result();
            String why = result.stderr().isBlank() ? "exit code " + result.exitCode() : result.stderr().strip().lines().findFirst().orElse("");
            return Optional.of("'" + result.commandLine() + "' failed: " + why);
        } catch (RuntimeException e) {
            return Optional.of("cannot create a network namespace: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
    }
}
