package dev.railyard.benchmarks.userspace;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.proxy.userspace.Listener;
import dev.railyard.proxy.userspace.ListenMode;
import dev.railyard.proxy.userspace.UserspaceConfig;
import dev.railyard.proxy.userspace.UserspaceProxier;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * Runs Railyard's {@link UserspaceProxier} on a directory of manifests in its own process, for
 * {@link ProxyLoadRun} until {@code railyard proxy --proxy-mode userspace} is wired in the CLI: one sync of the
 * manifests' IPv4 state in SERVICE_ADDRESSES mode, then serve until SIGTERM. The same proxier code as the daemon
 * will run, without its sources, change tracker, metrics and health servers.
 *
 * <pre>
 * java -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' dev.railyard.benchmarks.userspace.UserspaceProxyLauncher \
 *     MANIFEST_DIR [eventLoopThreads] [bindAddress=127.0.0.1]
 * </pre>
 */
public final class UserspaceProxyLauncher {
    private UserspaceProxyLauncher() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: UserspaceProxyLauncher MANIFEST_DIR [eventLoopThreads] [bindAddress]");
            System.exit(2);
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(Path.of(args[0]))) {
            files = list.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".json")).sorted().toList();
        }
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        InetAddress bind = InetAddress.getByName(args.length > 2 ? args[2] : "127.0.0.1");
        ClusterSnapshot snapshot = ManifestLoader.load(files);
        if (!snapshot.problems().isEmpty()) {
            System.err.println("invalid objects: " + snapshot.problems());
            System.exit(2);
        }
        String node = "loadrun-node";
        ProxyState state = snapshot.state(IpFamily.V4, node);
        UserspaceConfig config = UserspaceConfig.builder(node, bind, ListenMode.SERVICE_ADDRESSES)
                .eventLoopThreads(threads).build();
        UserspaceProxier proxier = new UserspaceProxier(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            proxier.close();
            stopped.countDown();
        }, "launcher-stop"));
        proxier.sync(state);
        for (Listener listener : proxier.listeners()) {
            System.out.println("listener " + listener);
        }
        System.out.printf("userspace proxier: %d service ports, %d event loop threads, transport %s%n",
                state.serviceCount(), threads, proxier.transportName());
        System.out.flush();
        stopped.await();
    }
}
