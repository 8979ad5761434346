package dev.railyard.benchmarks.overlay;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.lease.EtcdOptions;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.VethLink;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bounded load run (root): TCP throughput between pods on two hosts over each backend, measured in the same run and
 * interleaved round by round so that machine noise hits all of them: host-gw (no encapsulation: the ceiling),
 * vxlan (the kernel encapsulates) and udp (this JVM moves every packet between flannel0 and a UDP socket). Pods get
 * the MTU the daemon writes to subnet.env, as the flannel CNI plugin would give them.
 *
 * <pre>
 * sudo java -cp "benchmarks/target/benchmarks.jar:benchmarks/target/lib/*" \
 *     dev.railyard.benchmarks.overlay.ThroughputRun [seconds per measurement=4] [rounds=3]
 * </pre>
 */
public final class ThroughputRun {
    private static final String[] BACKENDS = {"host-gw", "vxlan", "udp"};

    /** Two hosts running one backend, a pod on each. */
    private record Pair(String backend, BenchHosts hosts, List<NetworkNamespace> pods, String serverIp, int mtu)
            implements AutoCloseable {
        @Override
        public void close() {
            pods.forEach(NetworkNamespace::close);
            hosts.close();
        }
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Map<String, double[]> results = new LinkedHashMap<>();
        List<Pair> pairs = new ArrayList<>();
        try (BenchEtcd etcd = new BenchEtcd()) {
            Client client = null;
            try {
                for (int i = 0; i < BACKENDS.length; i++) {
                    EtcdOptions options = EtcdOptions.plain(List.of(etcd.endpoint()), "/tput" + i + "/network")
                            .withLeaseTtl(Duration.ofHours(1));
                    client = client == null ? EtcdSubnetManager.newClient(options) : client;
                    Client shared = client;
                    try (EtcdSubnetManager admin = new EtcdSubnetManager(options, shared)) {
                        putConfig(admin, "{\"Network\":\"10." + (50 + i) + ".0.0/16\",\"Backend\":{\"Type\":\"" + BACKENDS[i] + "\"}}");
                    }
                    pairs.add(pair(BACKENDS[i], h -> new EtcdSubnetManager(options, shared)));
                    results.put(BACKENDS[i], new double[rounds]);
                }
                System.out.printf("== TCP throughput pod to pod across two hosts, %d s per measurement, %d rounds%n", seconds, rounds);
                for (int r = 0; r < rounds; r++) {
                    for (int k = 0; k < pairs.size(); k++) {
                        Pair p = pairs.get((k + r) % pairs.size()); // rotate the order every round
                        double mbps = measure(p, seconds);
                        results.get(p.backend)[r] = mbps;
                        System.out.printf("   round %d %-8s (pod MTU %d): %8.0f Mbit/s%n", r + 1, p.backend, p.mtu, mbps);
                    }
                }
            } finally {
                pairs.forEach(Pair::close);
                if (client != null) {
                    client.close();
                }
            }
        }
        Map<String, Double> median = new LinkedHashMap<>();
        results.forEach((backend, values) -> {
            double[] sorted = values.clone();
            Arrays.sort(sorted);
            median.put(backend, sorted[sorted.length / 2]);
        });
        System.out.printf("   median: host-gw %.0f, vxlan %.0f, udp %.0f Mbit/s; udp reaches %.0f %% of vxlan "
                + "(vxlan %.0f %% of host-gw)%n", median.get("host-gw"), median.get("vxlan"), median.get("udp"),
                100 * median.get("udp") / median.get("vxlan"), 100 * median.get("vxlan") / median.get("host-gw"));
        System.exit(median.values().stream().allMatch(v -> v > 0) ? 0 : 1);
    }

    private static void putConfig(EtcdSubnetManager admin, String json) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                admin.putNetworkConfig(json);
                return;
            } catch (dev.railyard.overlay.lease.LeaseException e) {
                if (attempt == 10) {
                    throw e;
                }
                Thread.sleep(1000);
            }
        }
    }

    private static Pair pair(String backend, java.util.function.Function<BenchHosts.Host, dev.railyard.overlay.lease.SubnetManager> managers)
            throws IOException {
        BenchHosts hosts = new BenchHosts(2, 1500);
        List<NetworkNamespace> pods = new ArrayList<>();
        String serverIp = null;
        int mtu = 0;
        for (BenchHosts.Host h : hosts.hosts()) {
            h.start(managers, Duration.ofMinutes(10));
            String gw = h.addBridge();
            Ip4Net subnet = h.daemon.lease().subnet();
            mtu = h.daemon.backend().mtu();
            NetworkNamespace pod = NetworkNamespace.create();
            pods.add(pod);
            String podIp = Ip4Net.formatAddress(subnet.addressAt(2));
            VethLink.between(h.ns(), pod).names("vp-" + pod.shortId(), "eth0").ipv4(null, podIp + "/" + subnet.prefixLength())
                    .mtu(mtu).create();
            h.ns().execChecked("ip", "link", "set", "vp-" + pod.shortId(), "master", "cni0");
            pod.execChecked("ip", "route", "add", "default", "via", gw);
            serverIp = podIp;
        }
        // wait until each host has programmed the other
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (hosts.hosts().stream().anyMatch(h -> h.daemon.backend().programmedPeers().isEmpty())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(backend + ": the hosts did not program each other");
            }
            sleep(20);
        }
        return new Pair(backend, hosts, pods, serverIp, mtu);
    }

    /** Mbit/s of one bulk TCP transfer from the first pod to the second, as the receiver counts it. */
    private static double measure(Pair p, int seconds) throws Exception {
        String server = p.serverIp;
        ServerSocket listener = NamespaceSockets.server(p.pods.get(1).name(), server, 5201, 1);
        AtomicLong received = new AtomicLong();
        long[] window = new long[2];
        Thread receiver = new Thread(() -> {
            try (Socket s = listener.accept(); InputStream in = s.getInputStream()) {
                byte[] buf = new byte[256 * 1024];
                in.read(buf); // the window opens once data flows: connection setup is not throughput
                window[0] = System.nanoTime();
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    received.addAndGet(n);
                }
                window[1] = System.nanoTime();
            } catch (IOException e) {
                System.err.println(p.backend + " receiver: " + e);
            }
        });
        receiver.start();
        try (Socket s = NamespaceSockets.client(p.pods.get(0).name())) {
            s.connect(new InetSocketAddress(server, 5201), 5000);
            byte[] chunk = new byte[128 * 1024];
            long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            OutputStream out = s.getOutputStream();
            while (System.nanoTime() < end) {
                out.write(chunk);
            }
        } catch (IOException e) {
            System.err.println(p.backend + " sender: " + e);
        }
        receiver.join(30_000);
        listener.close();
        long nanos = window[1] - window[0];
        return nanos <= 0 ? 0 : received.get() * 8 / (nanos / 1e9) / 1e6;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
