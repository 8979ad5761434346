package dev.railyard.overlay.etcd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real etcd cluster of one or more members on loopback, in a temp dir that {@link #close()}
 * deletes. A shutdown hook kills the processes if the JVM dies before close.
 */
public final class EtcdCluster implements AutoCloseable {
    private final Path baseDir;
    private final List<EtcdProcess> members = new ArrayList<>();
    private final TlsFiles tls;
    private final Thread shutdownHook;

    private EtcdCluster(Path baseDir, TlsFiles tls) {
        this.baseDir = baseDir;
        this.tls = tls;
        this.shutdownHook = new Thread(this::killAll, "etcd-cluster-cleanup");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    public static EtcdCluster start(int size) throws IOException, InterruptedException {
        return start(size, false);
    }

    public static EtcdCluster start(int size, boolean withTls) throws IOException, InterruptedException {
        // on tmpfs when there is one: etcd's fsyncs on a shared, busy disk stall requests for seconds
        Path shm = Path.of("/dev/shm");
        Path dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "railyard-etcd-")
                : Files.createTempDirectory("railyard-etcd-");
        EtcdCluster c = new EtcdCluster(dir, withTls ? TlsFiles.generate(dir.resolve("pki")) : null);
        try {
            for (int i = 0; i < size; i++) {
                c.members.add(new EtcdProcess("m" + i, dir, c.tls));
            }
            String initial = c.members.stream().map(m -> m.name() + "=" + m.peerUrl()).collect(Collectors.joining(","));
            for (EtcdProcess m : c.members) {
                m.setInitialCluster(initial);
                m.start();
            }
            for (EtcdProcess m : c.members) {
                m.awaitHealthy(30_000);
            }
            return c;
        } catch (IOException | InterruptedException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public EtcdProcess member(int i) {
        return members.get(i);
    }

    public List<EtcdProcess> members() {
        return List.copyOf(members);
    }

    public List<String> clientUrls() {
        return members.stream().map(EtcdProcess::clientUrl).toList();
    }

    public TlsFiles tls() {
        return tls;
    }

    private void killAll() {
        for (EtcdProcess m : members) {
            try {
                m.kill();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        killAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // already shutting down; the hook does the same
        }
        try (Stream<Path> walk = Files.walk(baseDir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temp dir left behind is not worth failing a test over
        }
    }
}
