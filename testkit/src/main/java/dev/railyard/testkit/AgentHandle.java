package dev.railyard.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Drives a {@link NetnsAgent} running inside a namespace. Each method sends one command and waits (bounded)
 * for its one-line answer. Closing the handle stops the agent; closing the namespace does too.
 *
 * <pre>{@code
 * try (AgentHandle server = podA.startAgent(); AgentHandle client = podB.startAgent()) {
 *     server.tcpServe(8080, "web");
 *     ProbeResult r = client.tcpGet("10.0.0.1", 8080, Duration.ofSeconds(2));
 *     assertThat(r.serverReply().clientIp()).isEqualTo("10.0.0.2");
 * }
 * }</pre>
 */
public final class AgentHandle implements AutoCloseable {

    /** JVM start-up inside a namespace on a loaded 2-core CI machine can take several seconds. */
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    /** Slack on top of a probe's own timeout for the command round trip. */
    private static final Duration ANSWER_SLACK = Duration.ofSeconds(15);
    private static final String EOF_MARKER = "\u0000eof";

    private final NamespacedProcess process;
    private final OutputStream commands;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();

    private AgentHandle(NamespacedProcess process) {
        this.process = process;
        this.commands = process.process().getOutputStream();
        Thread reader = new Thread(this::readAnswers, "agent-answers " + process.namespace().name());
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts an agent in {@code namespace} using the JVM and class path of the running test. */
    public static AgentHandle start(NetworkNamespace namespace) {
        AgentHandle agent = new AgentHandle(namespace.startPipedProcess(agentCommand()));
        try {
            String first = agent.await(STARTUP_TIMEOUT, "start-up");
            if (!NetnsAgent.READY.equals(first)) {
                throw new IllegalStateException("agent in " + namespace.name() + " said '" + first + "' instead of '"
                        + NetnsAgent.READY + "'" + agent.logSuffix());
            }
            return agent;
        } catch (RuntimeException e) {
            agent.process.close();
            throw e;
        }
    }

    /** {@code java -cp <test class path> dev.railyard.testkit.NetnsAgent}, tuned for fast start-up and small heap. */
    static List<String> agentCommand() {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        return List.of(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-Xmx64m",
                "-cp", System.getProperty("java.class.path"), NetnsAgent.class.getName());
    }

    public NetworkNamespace namespace() {
        return process.namespace();
    }

    public NamespacedProcess process() {
        return process;
    }

    /** Serves TCP on all addresses; returns the bound port (useful with port 0). */
    public int tcpServe(int port, String name) {
        return parsePort(send("tcp-serve " + port + " " + word(name)));
    }

    /** Serves TCP on one local address only. */
    public int tcpServe(String bindIp, int port, String name) {
        return parsePort(send("tcp-serve " + port + " " + word(name) + " " + word(bindIp)));
    }

    public int udpServe(int port, String name) {
        return parsePort(send("udp-serve " + port + " " + word(name)));
    }

    public int udpServe(String bindIp, int port, String name) {
        return parsePort(send("udp-serve " + port + " " + word(name) + " " + word(bindIp)));
    }

    public void stopTcp(int port) {
        requireOk(send("tcp-stop " + port));
    }

    public void stopUdp(int port) {
        requireOk(send("udp-stop " + port));
    }

    public ProbeResult tcpGet(String ip, int port, Duration timeout) {
        return probe("tcp-get " + word(ip) + " " + port + " " + timeout.toMillis(), timeout);
    }

    /** Connects from a specific local address (which must exist in this namespace). */
    public ProbeResult tcpGet(String ip, int port, Duration timeout, String sourceIp) {
        return probe("tcp-get " + word(ip) + " " + port + " " + timeout.toMillis() + " " + word(sourceIp), timeout);
    }

    public ProbeResult udpGet(String ip, int port, Duration timeout) {
        return probe("udp-get " + word(ip) + " " + port + " " + timeout.toMillis(), timeout);
    }

    public ProbeResult udpGet(String ip, int port, Duration timeout, String sourceIp) {
        return probe("udp-get " + word(ip) + " " + port + " " + timeout.toMillis() + " " + word(sourceIp), timeout);
    }

    /** Records from now on every SCTP INIT that reaches this namespace (see {@link #sctpSeen}). */
    public void sctpListen() {
        requireOk(send("sctp-listen"));
    }

    /** The SCTP INITs recorded since the last call, as they arrived (after any NAT on the way). */
    public List<SctpInit> sctpSeen() {
        String answer = send("sctp-seen");
        requireOk(answer);
        List<SctpInit> seen = new ArrayList<>();
        if (answer.length() > 3) {
            for (String entry : answer.substring(3).split(",")) {
                seen.add(SctpInit.parse(entry));
            }
        }
        return seen;
    }

    /** Sends one SCTP INIT (through a raw socket) and returns its random source port. */
    public int sctpInit(String ip, int port) {
        return parsePort(send("sctp-init " + word(ip) + " " + port));
    }

    /** Sends a raw protocol line and returns the answer; for commands without a typed method. */
    public synchronized String send(String commandLine) {
        return send(commandLine, Duration.ZERO);
    }

    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                synchronized (this) {
                    write("quit");
                    await(Duration.ofSeconds(5), "quit");
                }
            }
        } catch (RuntimeException ignored) {
            // The agent is killed below either way.
        } finally {
            process.close();
        }
    }

    @Override
    public String toString() {
        return "agent in " + process.namespace().name();
    }

    private ProbeResult probe(String commandLine, Duration timeout) {
        return ProbeResult.parse(send(commandLine, timeout));
    }

    private synchronized String send(String commandLine, Duration expectedDuration) {
        if (commandLine.contains("\n")) {
            throw new IllegalArgumentException("one command per line: " + commandLine);
        }
        write(commandLine);
        return await(expectedDuration.plus(ANSWER_SLACK), commandLine);
    }

    private void write(String commandLine) {
        try {
            commands.write((commandLine + "\n").getBytes(StandardCharsets.UTF_8));
            commands.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("agent in " + process.namespace().name() + " is gone" + logSuffix(), e);
        }
    }

    private String await(Duration timeout, String what) {
        String answer;
        try {
            answer = answers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for agent answer to " + what, e);
        }
        if (answer == null) {
            throw new IllegalStateException("no answer from " + this + " to '" + what + "' within "
                    + timeout.toMillis() + " ms" + logSuffix());
        }
        if (EOF_MARKER.equals(answer)) {
            answers.offer(EOF_MARKER);
            throw new IllegalStateException(this + " exited before answering '" + what + "'" + logSuffix());
        }
        return answer;
    }

    private void readAnswers() {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.process().getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                answers.offer(line);
            }
        } catch (IOException ignored) {
            // Process killed; the EOF marker below tells a waiting caller.
        }
        answers.offer(EOF_MARKER);
    }

    private String logSuffix() {
        String log = process.log().strip();
        return log.isEmpty() ? "" : "\n--- agent stderr ---\n" + log;
    }

    private int parsePort(String answer) {
        requireOk(answer);
        return Integer.parseInt(answer.substring(3).strip());
    }

    private void requireOk(String answer) {
        if (!answer.equals("ok") && !answer.startsWith("ok ")) {
            throw new IllegalStateException(this + " answered: " + answer);
        }
    }

    private static String word(String value) {
        if (value.isEmpty() || value.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("must be a single non-empty word: '" + value + "'");
        }
        return value;
    }
}
