package dev.railyard.benchmarks.overlay;

import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.kube.KubeSubnetManager;
import dev.railyard.overlay.kube.NodeAnnotations;
import dev.railyard.overlay.lease.EtcdOptions;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseSubnets;
import dev.railyard.overlay.lease.SubnetManager;
import dev.railyard.proxy.source.kubernetes.ApiClients;
import dev.railyard.testkit.kubernetes.TestApiServer;
import io.etcd.jetcd.Client;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Bounded load run (root): how long a new host takes to become reachable from every other host of a 100-host
 * vxlan cluster, with leases in etcd and with leases from Node objects (kube mode, the test API server standing in
 * for kube-apiserver). 99 daemons run, each in its own network namespace on one shared link; then a fresh machine
 * starts its daemon, repeatedly. Measured from the new daemon's start until the last of the 99 peers has applied
 * its route, neighbour and FDB entries for the new subnet (their batch has run); also until the new host has
 * programmed all 99. After each join every peer opens a TCP connection to the new host's pod gateway address across
 * the overlay, and the run fails if one cannot. The same is measured first on a 2-host cluster, the baseline: what a
 * join costs with one peer to tell.
 *
 * <pre>
 * sudo java -cp "benchmarks/target/benchmarks.jar:benchmarks/target/lib/*" \
 *     dev.railyard.benchmarks.overlay.JoinLatencyRun [hosts=100] [joins=5] [etcd|kube|both]
 * </pre>
 */
public final class JoinLatencyRun {
    private static final String CONFIG = "{\"Network\":\"10.0.0.0/8\",\"Backend\":{\"Type\":\"vxlan\"}}";
    private static final Duration RESYNC = Duration.ofMinutes(10);

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        int joins = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        String mode = args.length > 2 ? args[2] : "both";
        int failures = 0;
        if (!mode.equals("kube")) {
            failures += etcd(count, joins);
        }
        if (!mode.equals("etcd")) {
            failures += kube(count, joins);
        }
        System.exit(failures == 0 ? 0 : 1);
    }

    private static int etcd(int count, int joins) throws Exception {
        try (BenchEtcd etcd = new BenchEtcd()) {
            EtcdOptions options = EtcdOptions.plain(List.of(etcd.endpoint()), "/bench/network").withLeaseTtl(Duration.ofHours(1));
            Client shared = EtcdSubnetManager.newClient(options);
            try (EtcdSubnetManager admin = new EtcdSubnetManager(options, shared)) {
                for (int attempt = 1; ; attempt++) {
                    try {
                        admin.putNetworkConfig(CONFIG);
                        break;
                    } catch (dev.railyard.overlay.lease.LeaseException e) {
                        if (attempt == 10) {
                            throw e; // a fresh etcd on a busy machine may need a few seconds
                        }
                        Thread.sleep(1000);
                    }
                }
                int failures = 0;
                for (int size : new int[] {2, count}) { // 2 hosts: the baseline, one peer to tell
                    failures += run("etcd", size, joins, h -> new EtcdSubnetManager(options, shared),
                            (h, lease) -> admin.release(lease), h -> { });
                }
                return failures;
            } finally {
                shared.close();
            }
        }
    }

    private static int kube(int count, int joins) throws Exception {
        NetworkConfig config = NetworkConfig.parse(CONFIG);
        int failures = 0;
        for (int size : new int[] {2, count}) {
            failures += kube(config, size, joins);
        }
        return failures;
    }

    private static int kube(NetworkConfig config, int count, int joins) throws Exception {
        try (TestApiServer api = TestApiServer.start()) {
            int[] generation = new int[count];
            Function<BenchHosts.Host, String> nodeName = h -> "node-" + h.index + "-" + generation[h.index];
            return run("kube", count, joins, h -> {
                try {
                    return new KubeSubnetManager(ApiClients.fromMaster(api.url()), config,
                            new KubeSubnetManager.Settings(nodeName.apply(h), NodeAnnotations.withPrefix(null), true, null));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, (h, lease) -> {
                api.delete(new V1Node().metadata(new V1ObjectMeta().name(nodeName.apply(h))));
                generation[h.index]++;
            }, h -> {
                // what kubelet and the controller manager do before the daemon starts: register, allocate a pod CIDR
                String cidr = config.ipv4().at(h.index + 1000L * generation[h.index]).toString();
                api.create(new V1Node().metadata(new V1ObjectMeta().name(nodeName.apply(h)))
                        .spec(new V1NodeSpec().podCIDR(cidr).podCIDRs(List.of(cidr))));
            });
        }
    }

    @FunctionalInterface
    private interface Decommission {
        void leave(BenchHosts.Host host, Lease lease) throws Exception;
    }

    private static int run(String mode, int count, int joins, Function<BenchHosts.Host, SubnetManager> managers,
                           Decommission decommission, java.util.function.Consumer<BenchHosts.Host> register) throws Exception {
        System.out.printf("== %s mode: %d vxlan hosts, %d joins of a new host%n", mode, count, joins);
        long setup = System.nanoTime();
        int failures = 0;
        try (BenchHosts hosts = new BenchHosts(count, 1500)) {
            List<BenchHosts.Host> peers = hosts.hosts().subList(0, count - 1);
            BenchHosts.Host newcomer = hosts.host(count - 1);
            ExecutorService starters = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> started = new ArrayList<>();
                for (BenchHosts.Host h : peers) {
                    started.add(starters.submit(() -> {
                        register.accept(h);
                        h.start(managers, RESYNC);
                        return null;
                    }));
                }
                for (Future<?> f : started) {
                    f.get();
                }
            } finally {
                starters.shutdown();
            }
            awaitAll(peers, p -> p.daemon.backend().programmedPeers().size() == count - 2, Duration.ofMinutes(5),
                    "every peer to program the others");
            System.out.printf("   %d daemons up and meshed in %.1f s%n", count - 1, (System.nanoTime() - setup) / 1e9);

            long[] toAll = new long[joins];
            long[] toSelf = new long[joins];
            long[] started = new long[joins];
            for (int j = 0; j < joins; j++) {
                newcomer.wipe();
                register.accept(newcomer);
                long t0 = System.nanoTime();
                newcomer.start(managers, RESYNC);
                started[j] = System.nanoTime() - t0;
                LeaseSubnets subnets = newcomer.daemon.lease().subnets();
                awaitAll(List.of(newcomer), h -> h.daemon.backend().programmedPeers().size() == count - 1,
                        Duration.ofMinutes(2), "the new host to program its peers");
                toSelf[j] = System.nanoTime() - t0;
                awaitAll(peers, p -> has(p.daemon.backend(), subnets),
                        Duration.ofMinutes(2), "every peer to program the new host");
                toAll[j] = System.nanoTime() - t0;
                String gw = newcomer.addBridge();
                int unreachable = reachability(newcomer, peers, gw);
                failures += unreachable;
                System.out.printf("   join %d: subnet %s leased and published after %5.0f ms, programmed by all %d peers "
                        + "after %5.0f ms, the new host had all its peers after %5.0f ms; %d of %d peers could not reach it%n",
                        j + 1, subnets, started[j] / 1e6, count - 1, toAll[j] / 1e6, toSelf[j] / 1e6, unreachable, count - 1);
                Lease lease = newcomer.daemon.lease();
                newcomer.stop();
                decommission.leave(newcomer, lease);
                awaitAll(peers, p -> !has(p.daemon.backend(), subnets),
                        Duration.ofMinutes(2), "every peer to forget the host that left");
            }
            Arrays.sort(toAll);
            Arrays.sort(toSelf);
            Arrays.sort(started);
            System.out.printf("   %s mode, %d hosts: new host reachable from all others p50 %.0f ms, max %.0f ms "
                    + "(its daemon up with the lease published: p50 %.0f ms; it had programmed all its peers: p50 %.0f ms)%n",
                    mode, count, toAll[joins / 2] / 1e6, toAll[joins - 1] / 1e6, started[joins / 2] / 1e6, toSelf[joins / 2] / 1e6);
        }
        return failures;
    }

    /**
     * How many peers cannot open a TCP connection to {@code gw}:7777 on the new host (no ping on this machine: the
     * sockets are made inside each namespace instead).
     */
    private static int reachability(BenchHosts.Host target, List<BenchHosts.Host> peers, String gw) throws Exception {
        java.net.ServerSocket server = NamespaceSockets.server(target.ns().name(), gw, 7777, 200);
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    server.accept().close();
                } catch (java.io.IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        int unreachable = 0;
        try {
            for (BenchHosts.Host p : peers) {
                try (java.net.Socket s = NamespaceSockets.client(p.ns().name())) {
                    s.connect(new java.net.InetSocketAddress(gw, 7777), 2000);
                } catch (java.io.IOException e) {
                    if (unreachable++ == 0) {
                        System.out.println("   " + p.ns().name() + " cannot reach " + gw + ": " + e);
                    }
                }
            }
        } finally {
            server.close();
        }
        return unreachable;
    }

    private static boolean has(dev.railyard.overlay.backend.Backend backend, LeaseSubnets subnets) {
        return backend.programmedPeers().stream().anyMatch(l -> l.subnets().equals(subnets));
    }

    private static void awaitAll(List<BenchHosts.Host> hosts, java.util.function.Predicate<BenchHosts.Host> done,
                                 Duration within, String what) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        List<BenchHosts.Host> pending = new ArrayList<>(hosts);
        while (!pending.isEmpty()) {
            pending.removeIf(done);
            if (pending.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what + ": " + pending.size() + " hosts pending");
            }
            Thread.sleep(2);
        }
    }
}
