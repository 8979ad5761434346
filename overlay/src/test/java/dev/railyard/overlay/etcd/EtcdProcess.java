package dev.railyard.overlay.etcd;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One real etcd member on loopback ports, with its own data dir. Can be killed (SIGKILL) and started
 * again on the same ports and data, which is how tests simulate an outage.
 */
public final class EtcdProcess {
    private final String name;
    private final Path dataDir;
    private final Path logFile;
    private final int clientPort;
    private final int peerPort;
    private final TlsFiles tls;
    private String initialCluster;
    private Process process;

    EtcdProcess(String name, Path baseDir, TlsFiles tls) throws IOException {
        this.name = name;
        this.dataDir = baseDir.resolve(name + ".etcd");
        this.logFile = baseDir.resolve(name + ".log");
        this.clientPort = freePort();
        this.peerPort = freePort();
        this.tls = tls;
    }

    public String name() {
        return name;
    }

    public String clientUrl() {
        return (tls != null ? "https" : "http") + "://127.0.0.1:" + clientPort;
    }

    String peerUrl() {
        return "http://127.0.0.1:" + peerPort;
    }

    void setInitialCluster(String initialCluster) {
        this.initialCluster = initialCluster;
    }

    public synchronized void start() throws IOException {
        if (process != null && process.isAlive()) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of(findBinary("etcd").toString(),
                "--name", name,
                "--data-dir", dataDir.toString(),
                "--listen-client-urls", clientUrl(),
                "--advertise-client-urls", clientUrl(),
                "--listen-peer-urls", peerUrl(),
                "--initial-advertise-peer-urls", peerUrl(),
                "--initial-cluster", initialCluster,
                "--initial-cluster-state", "new",
                "--initial-cluster-token", "railyard-test",
                // faster elections so killing a member costs a second, not several
                "--heartbeat-interval", "50",
                "--election-timeout", "500",
                "--quota-backend-bytes", String.valueOf(256L << 20)));
        if (tls != null) {
            cmd.addAll(List.of("--cert-file", tls.serverCert().toString(), "--key-file", tls.serverKey().toString(),
                    "--trusted-ca-file", tls.caCert().toString(), "--client-cert-auth"));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        pb.environment().remove("ETCD_UNSUPPORTED_ARCH");
        process = pb.start();
    }

    /** SIGKILL: no graceful shutdown, like a crashed machine. */
    public synchronized void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Blocks until this member answers a health check, or fails with the tail of its log. */
    public void awaitHealthy(long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            if (!isAlive()) {
                throw new IOException("etcd " + name + " exited: " + logTail());
            }
            if (etcdctl("endpoint", "health").exitCode == 0) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IOException("etcd " + name + " not healthy after " + timeoutMillis + " ms: " + logTail());
    }

    /** Runs etcdctl against this member with the client certificate if TLS is on. */
    public Result etcdctl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(findBinary("etcdctl").toString(), "--endpoints", clientUrl(),
                "--dial-timeout", "1s", "--command-timeout", "3s"));
        if (tls != null) {
            cmd.addAll(List.of("--cacert", tls.caCert().toString(), "--cert", tls.clientCert().toString(),
                    "--key", tls.clientKey().toString()));
        }
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, out);
        }
        return new Result(p.exitValue(), out);
    }

    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(logFile);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    public record Result(int exitCode, String output) {
    }

    /** Below Linux's ephemeral range (32768+), so no outgoing connection can take it before etcd binds it. */
    private static final int FIRST_PORT = 20000;
    private static final int PORT_SPAN = 12000;
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    /**
     * A free loopback port that this JVM has not handed out before; etcd members keep their ports across
     * restarts, so a port must stay theirs after the member stops.
     */
    static int freePort() throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = FIRST_PORT + ThreadLocalRandom.current().nextInt(PORT_SPAN);
            if (!HANDED_OUT.add(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException inUse) {
                // taken by something else on the machine: try another
            }
        }
        throw new IOException("no free loopback port in " + FIRST_PORT + "-" + (FIRST_PORT + PORT_SPAN - 1));
    }

    public static Path findBinary(String name) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : (path + ":/usr/sbin:/sbin:/usr/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
