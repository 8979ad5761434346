package dev.railyard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A long-running process started inside a {@link NetworkNamespace} (a server, an agent, etcd...). Closing it
 * kills it and everything it spawned; the namespace also closes it when the namespace is closed.
 */
public final class NamespacedProcess implements AutoCloseable {

    private final NetworkNamespace namespace;
    private final List<String> command;
    private final Process process;
    private final Path logFile;

    NamespacedProcess(NetworkNamespace namespace, List<String> command, Process process, Path logFile) {
        this.namespace = namespace;
        this.command = List.copyOf(command);
        this.process = process;
        this.logFile = logFile;
    }

    public NetworkNamespace namespace() {
        return namespace;
    }

    public List<String> command() {
        return command;
    }

    /** The underlying process; its streams are pipes only for processes started with piped I/O. */
    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Where stdout (and for piped processes, stderr) went, if it went to a file. */
    public Optional<Path> logFile() {
        return Optional.ofNullable(logFile);
    }

    /** The log so far (empty when the output is piped to the caller), useful in assertion messages. */
    public String log() {
        if (logFile == null || !Files.exists(logFile)) {
            return "";
        }
        try {
            return Files.readString(logFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        Commands.kill(process.toHandle());
        namespace.forget(this);
        LastResortCleanup.unregister(this);
    }

    @Override
    public String toString() {
        return "process " + process.pid() + " in " + namespace.name() + ": " + Commands.describe(command);
    }
}
