package dev.railyard.benchmarks.overlay;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A single throwaway etcd member on a loopback port for load runs. The data dir goes on /dev/shm when
 * it exists so that disk fsync latency of the machine does not dominate both the measured path and
 * the baseline (they see the same etcd either way).
 */
final class BenchEtcd implements AutoCloseable {
    private final Path dir;
    private final Process process;
    private final int port;
    private final Thread hook;

    BenchEtcd() throws IOException, InterruptedException {
        Path base = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        dir = Files.createTempDirectory(base, "railyard-bench-etcd-");
        port = freePort();
        int peer = freePort();
        String client = "http://127.0.0.1:" + port;
        String peerUrl = "http://127.0.0.1:" + peer;
        process = new ProcessBuilder(List.of("etcd", "--name", "bench", "--data-dir", dir.resolve("data").toString(),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
                "--initial-cluster", "bench=" + peerUrl, "--quota-backend-bytes", String.valueOf(1L << 30)))
                .redirectErrorStream(true).redirectOutput(dir.resolve("etcd.log").toFile()).start();
        hook = new Thread(this::destroy);
        Runtime.getRuntime().addShutdownHook(hook);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("etcd exited: " + Files.readString(dir.resolve("etcd.log")));
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                Thread.sleep(500); // listening; give it a moment to elect itself
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        destroy();
        throw new IOException("etcd did not start within 30 s");
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    private void destroy() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp files only
        }
    }

    @Override
    public void close() {
        destroy();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // already shutting down
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
