package dev.railyard.nftables;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs one command to completion with its input on stdin. Output is drained on separate threads while stdin is
 * written, since a tool reading a large script and writing errors can otherwise fill a pipe and deadlock; a
 * process past its timeout is killed (with its children, e.g. behind {@code ip netns exec}).
 */
public final class CommandRunner {
    private static final long DRAIN_GRACE_MS = 2000;
    private static final List<String> SYSTEM_DIRS = List.of("/usr/local/sbin", "/usr/sbin", "/sbin");

    /** What a finished command printed. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
    }

    /** Writes a command's standard input; may throw when the command stopped reading. */
    @FunctionalInterface
    public interface Input {
        void writeTo(OutputStream out) throws IOException;
    }

    private CommandRunner() {
    }

    /**
     * @param stdin null for none
     * @throws IOException if the command cannot be started, or did not finish within {@code timeout} (killed)
     */
    public static Result run(List<String> command, Input stdin, Duration timeout)
            throws IOException, InterruptedException {
        List<String> resolved = new ArrayList<>(command);
        resolved.set(0, resolve(command.get(0)));
        ProcessBuilder builder = new ProcessBuilder(resolved);
        // Error text is parsed (line numbers, errno names), so it must not be translated.
        builder.environment().put("LC_ALL", "C");
        builder.environment().put("PATH", withSystemDirs(builder.environment().getOrDefault("PATH", "")));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new IOException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread outPump = daemon(() -> drain(process.getInputStream(), out), "stdout of " + command.get(0));
        Thread errPump = daemon(() -> drain(process.getErrorStream(), err), "stderr of " + command.get(0));
        Thread feeder = daemon(() -> feed(process.getOutputStream(), stdin), "stdin of " + command.get(0));
        boolean finished = false;
        try {
            finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            if (!finished) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        }
        feeder.join(DRAIN_GRACE_MS);
        outPump.join(DRAIN_GRACE_MS);
        errPump.join(DRAIN_GRACE_MS);
        String stderr = err.toString(StandardCharsets.UTF_8);
        if (!finished) {
            throw new IOException(String.join(" ", command) + " did not finish within " + timeout.toMillis()
                    + " ms and was killed" + (stderr.isBlank() ? "" : ": " + stderr.strip()));
        }
        return new Result(List.copyOf(command), process.exitValue(), out.toString(StandardCharsets.UTF_8),
                stderr);
    }

    /**
     * nft, iptables and ip live in /usr/sbin or /sbin, which a service manager or container may leave out of
     * PATH; finding them there anyway beats failing on a node that has them.
     */
    private static String resolve(String executable) {
        if (executable.contains("/")) {
            return executable;
        }
        for (String dir : withSystemDirs(System.getenv().getOrDefault("PATH", "")).split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, executable))) {
                return Path.of(dir, executable).toString();
            }
        }
        return executable;
    }

    private static String withSystemDirs(String path) {
        Set<String> dirs = new LinkedHashSet<>(Arrays.asList(path.split(":")));
        dirs.remove("");
        dirs.addAll(SYSTEM_DIRS);
        return String.join(":", dirs);
    }

    private static void drain(InputStream in, ByteArrayOutputStream sink) {
        try (in) {
            in.transferTo(sink);
        } catch (IOException ignored) {
            // Killed; keep what was read.
        }
    }

    private static void feed(OutputStream stdin, Input data) {
        try (stdin) {
            if (data != null) {
                data.writeTo(stdin);
            }
        } catch (IOException ignored) {
            // The process stopped reading (it failed early); its exit code and stderr say why.
        }
    }

    private static Thread daemon(Runnable body, String name) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
