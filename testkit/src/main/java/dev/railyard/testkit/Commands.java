package dev.railyard.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs external commands (ip, iptables, conntrack...) with a timeout, captured output and error messages that
 * say what ran and what it printed. Every other class of the kit goes through here, so there is one place
 * that knows how to avoid the two classic process pitfalls: a full pipe that blocks the child forever, and a
 * child that never exits.
 */
public final class Commands {

    /** Default for short administrative commands; generous because CI machines can be slow and loaded. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);

    /**
     * Directories where iproute2 and iptables live on Debian/Ubuntu/Fedora. A non-root user's PATH often lacks
     * them, which would make "command not found" look like a missing package.
     */
    private static final List<String> SYSTEM_BIN_DIRS = List.of("/usr/local/sbin", "/usr/sbin", "/sbin");

    /** How long to keep draining a pipe after the process itself is gone (a forked child may still hold it). */
    private static final Duration DRAIN_GRACE = Duration.ofSeconds(2);

    private Commands() {
    }

    public static CommandResult run(String... command) {
        return run(List.of(command), DEFAULT_TIMEOUT, null);
    }

    public static CommandResult run(Duration timeout, String... command) {
        return run(List.of(command), timeout, null);
    }

    /** Runs, throwing {@link CommandFailedException} (with stderr) unless the exit code is 0. */
    public static CommandResult runChecked(String... command) {
        return run(List.of(command), DEFAULT_TIMEOUT, null).requireSuccess();
    }

    public static CommandResult runChecked(List<String> command) {
        return run(command, DEFAULT_TIMEOUT, null).requireSuccess();
    }

    /**
     * Runs {@code command}, feeding {@code stdin} (may be null for an empty stdin), waiting at most
     * {@code timeout}. A command that takes longer is killed (with its descendants) and
     * {@link CommandTimeoutException} is thrown. Never throws for a non-zero exit; see
     * {@link CommandResult#requireSuccess()}.
     */
    public static CommandResult run(List<String> command, Duration timeout, byte[] stdin) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        long start = System.nanoTime();
        Process process = start(command, ProcessBuilder.Redirect.PIPE, ProcessBuilder.Redirect.PIPE);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread outPump = pump(process.getInputStream(), out, "stdout", command);
        Thread errPump = pump(process.getErrorStream(), err, "stderr", command);
        Thread inFeeder = feed(process.getOutputStream(), stdin, command);
        try {
            boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                kill(process.toHandle());
                process.waitFor(DRAIN_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            }
            inFeeder.join(DRAIN_GRACE.toMillis());
            outPump.join(DRAIN_GRACE.toMillis());
            errPump.join(DRAIN_GRACE.toMillis());
            CommandResult result = new CommandResult(command, finished ? process.exitValue() : -1,
                    text(out), text(err), Duration.ofNanos(System.nanoTime() - start));
            if (!finished) {
                throw new CommandTimeoutException(result, timeout);
            }
            return result;
        } catch (InterruptedException e) {
            kill(process.toHandle());
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + describe(command), e);
        }
    }

    /**
     * Starts a long-running process with the given redirects. The caller owns it; use
     * {@link #kill(ProcessHandle)} to stop it.
     */
    static Process start(List<String> command, ProcessBuilder.Redirect stdout, ProcessBuilder.Redirect stderr) {
        List<String> resolved = new ArrayList<>(command);
        resolved.set(0, locate(command.get(0)).map(Path::toString).orElse(command.get(0)));
        ProcessBuilder builder = new ProcessBuilder(resolved).redirectOutput(stdout).redirectError(stderr);
        Map<String, String> env = builder.environment();
        env.put("PATH", pathWithSystemDirs(env.getOrDefault("PATH", "")));
        // iptables and ip print localized messages otherwise; parsers (line numbers, "does not exist") need English.
        env.put("LC_ALL", "C");
        try {
            return builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + describe(command) + ": " + e.getMessage()
                    + (locate(command.get(0)).isEmpty() ? " (not found on PATH or in " + SYSTEM_BIN_DIRS + ")" : ""), e);
        }
    }

    /** Finds an executable by name on PATH and in the sbin directories; absolute or relative paths are checked as given. */
    public static Optional<Path> locate(String name) {
        if (name.contains("/")) {
            Path path = Path.of(name);
            return Files.isExecutable(path) ? Optional.of(path) : Optional.empty();
        }
        for (String dir : pathWithSystemDirs(System.getenv().getOrDefault("PATH", "")).split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Terminates a process and everything it started: SIGTERM, a short grace period, then SIGKILL. */
    public static void kill(ProcessHandle process) {
        List<ProcessHandle> all = new ArrayList<>();
        process.descendants().forEach(all::add);
        all.add(process);
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        for (ProcessHandle handle : all) {
            while (handle.isAlive() && System.nanoTime() < deadline) {
                sleepQuietly(20);
            }
            if (handle.isAlive()) {
                handle.destroyForcibly();
            }
        }
    }

    static String describe(List<String> command) {
        StringBuilder sb = new StringBuilder();
        for (String arg : command) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            boolean plain = !arg.isEmpty() && arg.chars().allMatch(c -> Character.isLetterOrDigit(c) || "-_./:=,@%+".indexOf(c) >= 0);
            sb.append(plain ? arg : "'" + arg.replace("'", "'\\''") + "'");
        }
        return sb.toString();
    }

    private static String pathWithSystemDirs(String path) {
        Set<String> dirs = new LinkedHashSet<>(Arrays.asList(path.split(":")));
        dirs.remove("");
        dirs.addAll(SYSTEM_BIN_DIRS);
        return String.join(":", dirs);
    }

    private static Thread pump(InputStream in, ByteArrayOutputStream sink, String label, List<String> command) {
        Thread thread = new Thread(() -> {
            try (in) {
                in.transferTo(sink);
            } catch (IOException ignored) {
                // The process was killed or closed its end; what was read so far is in the sink.
            }
        }, label + " of " + command.get(0));
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static Thread feed(OutputStream stdin, byte[] data, List<String> command) {
        Thread thread = new Thread(() -> {
            try (stdin) {
                if (data != null) {
                    stdin.write(data);
                }
            } catch (IOException ignored) {
                // The child exited without reading all input; its exit code and stderr tell why.
            }
        }, "stdin of " + command.get(0));
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static String text(ByteArrayOutputStream bytes) {
        synchronized (bytes) {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
