package dev.railyard.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A named Linux network namespace ({@code ip netns}) owned by a test. It is created with {@code lo} up, and on
 * {@link #close()} every process in it is killed and the namespace is deleted, which also deletes the
 * interfaces inside it (the peer ends of veth pairs disappear with them).
 *
 * <p>Names are {@code ry-} plus six random characters (9 in total), so that interface names derived from a
 * namespace name plus a short suffix still fit the kernel's 15-character limit (IFNAMSIZ - 1).
 */
public final class NetworkNamespace implements AutoCloseable {

    public static final String NAME_PREFIX = "ry-";
    /** Linux interface names are at most 15 characters; namespace names are kept short enough to embed. */
    public static final int MAX_NAME_LENGTH = 15;

    private static final Pattern VALID_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,14}");
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int CREATE_ATTEMPTS = 5;
    private static final Duration PROCESS_KILL_WAIT = Duration.ofSeconds(5);

    private final String name;
    private final List<NamespacedProcess> processes = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private NetworkNamespace(String name) {
        this.name = name;
    }

    /** Creates a namespace with a fresh random name such as {@code ry-k3x9qa}. */
    public static NetworkNamespace create() {
        RuntimeException last = null;
        for (int attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
            String candidate = NAME_PREFIX + randomSuffix(6);
            if (exists(candidate)) {
                continue;
            }
            try {
                return create(candidate);
            } catch (CommandFailedException e) {
                if (!exists(candidate)) {
                    throw e; // Not a name clash: no permission, no iproute2... retrying cannot help.
                }
                // Another test run picked the same name between our check and our add; try another name.
                last = e;
            }
        }
        throw new IllegalStateException("could not create a network namespace after " + CREATE_ATTEMPTS + " attempts", last);
    }

    /** Creates a namespace with an exact name; fails if it already exists. */
    public static NetworkNamespace create(String name) {
        if (!VALID_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("namespace name must match " + VALID_NAME + ": " + name);
        }
        Commands.runChecked("ip", "netns", "add", name);
        NetworkNamespace namespace = new NetworkNamespace(name);
        LastResortCleanup.register(namespace);
        try {
            namespace.execChecked("ip", "link", "set", "lo", "up");
        } catch (RuntimeException e) {
            namespace.close();
            throw e;
        }
        return namespace;
    }

    public static boolean exists(String name) {
        return Files.exists(Path.of("/run/netns", name)) || listNames().contains(name);
    }

    private static Set<String> listNames() {
        CommandResult result = Commands.run("ip", "netns", "list");
        if (!result.succeeded()) {
            return Set.of();
        }
        // Lines look like "ry-abc123 (id: 4)" or just "ry-abc123".
        return result.stdout().lines().map(line -> line.split("\\s+", 2)[0]).filter(s -> !s.isEmpty())
                .collect(Collectors.toSet());
    }

    public String name() {
        return name;
    }

    /** The six random characters after {@code ry-}, handy for building unique interface names. */
    public String shortId() {
        return name.startsWith(NAME_PREFIX) ? name.substring(NAME_PREFIX.length()) : name;
    }

    /** The argv prefix that runs a command inside this namespace: {@code ip netns exec NAME}. */
    public List<String> commandPrefix() {
        return List.of("ip", "netns", "exec", name);
    }

    /** Runs a command inside the namespace and returns its result whatever the exit code. */
    public CommandResult exec(String... command) {
        return exec(Commands.DEFAULT_TIMEOUT, command);
    }

    public CommandResult exec(Duration timeout, String... command) {
        return exec(Arrays.asList(command), timeout, null);
    }

    public CommandResult exec(List<String> command, Duration timeout, byte[] stdin) {
        requireOpen();
        return Commands.run(inside(command), timeout, stdin);
    }

    /** Runs a command inside the namespace; throws {@link CommandFailedException} with stderr if it fails. */
    public CommandResult execChecked(String... command) {
        return exec(command).requireSuccess();
    }

    public CommandResult execChecked(Duration timeout, String... command) {
        return exec(timeout, command).requireSuccess();
    }

    /** Sets a sysctl inside the namespace, e.g. {@code sysctl("net.ipv4.ip_forward", "1")}. */
    public void sysctl(String key, String value) {
        execChecked("sysctl", "-q", "-w", key + "=" + value);
    }

    /** Reads a sysctl inside the namespace. */
    public String sysctl(String key) {
        return execChecked("sysctl", "-n", key).stdout().strip();
    }

    /**
     * Starts a long-running process inside the namespace with stdout and stderr going to a log file
     * (see {@link NamespacedProcess#log()}). It is killed when the handle or this namespace is closed.
     */
    public NamespacedProcess startProcess(String... command) {
        requireOpen();
        Path log = newLogFile();
        ProcessBuilder.Redirect toLog = ProcessBuilder.Redirect.appendTo(log.toFile());
        Process process = Commands.start(inside(Arrays.asList(command)), toLog, toLog);
        return track(new NamespacedProcess(this, Arrays.asList(command), process, log));
    }

    /**
     * Starts a process with stdin/stdout as pipes for the caller to drive (stderr goes to a log file).
     * Used by {@link AgentHandle}.
     */
    public NamespacedProcess startPipedProcess(List<String> command) {
        requireOpen();
        Path log = newLogFile();
        Process process = Commands.start(inside(command), ProcessBuilder.Redirect.PIPE,
                ProcessBuilder.Redirect.appendTo(log.toFile()));
        return track(new NamespacedProcess(this, command, process, log));
    }

    /** Starts a {@link NetnsAgent} inside this namespace. */
    public AgentHandle startAgent() {
        return AgentHandle.start(this);
    }

    /** PIDs of all processes whose network namespace is this one, as reported by {@code ip netns pids}. */
    public List<Long> pids() {
        CommandResult result = Commands.run("ip", "netns", "pids", name);
        if (!result.succeeded()) {
            return List.of();
        }
        return result.stdout().lines().map(String::strip).filter(s -> s.matches("\\d+")).map(Long::valueOf).toList();
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Kills the processes started through this object, then any other process still in the namespace, then
     * deletes it. Idempotent; safe to call from a shutdown hook.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<RuntimeException> problems = new ArrayList<>();
        for (NamespacedProcess process : List.copyOf(processes)) {
            try {
                process.close();
            } catch (RuntimeException e) {
                problems.add(e);
            }
        }
        killStragglers();
        CommandResult delete = Commands.run("ip", "netns", "delete", name);
        LastResortCleanup.unregister(this);
        if (!delete.succeeded() && exists(name)) {
            problems.add(new CommandFailedException(delete));
        }
        if (!problems.isEmpty()) {
            RuntimeException first = problems.get(0);
            problems.subList(1, problems.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    @Override
    public String toString() {
        return "netns " + name;
    }

    void forget(NamespacedProcess process) {
        processes.remove(process);
    }

    List<String> inside(List<String> command) {
        List<String> full = new ArrayList<>(commandPrefix());
        full.addAll(command);
        return full;
    }

    private NamespacedProcess track(NamespacedProcess process) {
        processes.add(process);
        LastResortCleanup.register(process);
        return process;
    }

    /** Processes started by others (e.g. via exec with a backgrounding shell) would keep the namespace alive. */
    private void killStragglers() {
        long deadline = System.nanoTime() + PROCESS_KILL_WAIT.toNanos();
        List<Long> pids = pids();
        while (!pids.isEmpty() && System.nanoTime() < deadline) {
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            Commands.sleepQuietly(50);
            pids = pids();
        }
    }

    private Path newLogFile() {
        try {
            Path dir = Path.of(System.getProperty("java.io.tmpdir"), "railyard-testkit");
            Files.createDirectories(dir);
            Path file = Files.createTempFile(dir, name + "-", ".log");
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a log file for a process in " + name, e);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    private static String randomSuffix(int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }
}
