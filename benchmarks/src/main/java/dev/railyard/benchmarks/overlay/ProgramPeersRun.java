package dev.railyard.benchmarks.overlay;

import dev.railyard.overlay.backend.Backend;
import dev.railyard.overlay.backend.HostGwBackend;
import dev.railyard.overlay.backend.VxlanBackend;
import dev.railyard.overlay.config.BackendConfig;
import dev.railyard.overlay.config.BackendType;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.ip.ExternalInterface;
import dev.railyard.overlay.ip.IpRunner;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseAttrs;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Bounded load run: how long the backends take to program N peer subnets into a scratch network
 * namespace (root needed), next to the naive way of one {@code ip route replace} process per peer,
 * measured in the same run. Target: 1,000 peers in at most 1 s.
 *
 * <pre>
 * sudo java -cp benchmarks/target/benchmarks.jar:benchmarks/target/lib/* dev.railyard.benchmarks.overlay.ProgramPeersRun [peers]
 * </pre>
 */
public final class ProgramPeersRun {
    private static final int NAIVE_SAMPLE = 200;

    public static void main(String[] args) throws Exception {
        int peers = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        String ns = "rybench-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 20));
        IpRunner root = new IpRunner(null);
        Thread hook = new Thread(() -> root.exec(List.of("ip", "netns", "del", ns), null));
        Runtime.getRuntime().addShutdownHook(hook);
        int exit = 0;
        try {
            root.run("ip", "netns", "add", ns);
            IpRunner ip = new IpRunner(ns);
            // a veth pair rather than a dummy: containers often lack the dummy module
            ip.run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p");
            ip.run("ip", "link", "set", "eth0p", "up");
            ip.run("ip", "addr", "add", "192.168.0.1/16", "dev", "eth0");
            ip.run("ip", "link", "set", "eth0", "up");
            ExternalInterface ext = ExternalInterface.detect(ip, "eth0", null);
            Lease own = lease(0, "host-gw", "null");

            System.out.printf("== programming %d peer subnets in network namespace %s%n", peers, ns);
            long naive = naive(ip, peers);
            ip.run("ip", "route", "flush", "proto", "static");

            HostGwBackend hostGw = new HostGwBackend(ip, ext);
            hostGw.localLease(own);
            exit |= measure("host-gw", hostGw, ip, peers, naive, "host-gw", "null");

            VxlanBackend vxlan = new VxlanBackend(ip, ext, new BackendConfig(BackendType.VXLAN, 1, 8472, false)).prepare();
            vxlan.localLease(lease(0, "vxlan", vxlan.backendDataJson()));
            exit |= measure("vxlan", vxlan, ip, peers, naive, "vxlan", null);
        } finally {
            root.exec(List.of("ip", "netns", "del", ns), null);
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        System.exit(exit);
    }

    private static int measure(String name, Backend backend, IpRunner ip, int peers, long naive, String type, String data) {
        List<Lease> leases = new ArrayList<>();
        for (int i = 1; i <= peers; i++) {
            String d = data != null ? data : String.format("{\"VNI\":1,\"VtepMAC\":\"02:00:00:%02x:%02x:%02x\"}", i >> 16, (i >> 8) & 0xff, i & 0xff);
            leases.add(lease(i, type, d));
        }
        // warm-up on a handful of peers so class loading and JIT are not billed to the measurement
        backend.reset(leases.subList(0, Math.min(10, peers)));
        backend.reset(List.of());
        long s = System.nanoTime();
        backend.reset(leases);
        long add = System.nanoTime() - s;
        int bad = check(ip, peers, name);
        s = System.nanoTime();
        backend.reset(List.of());
        long remove = System.nanoTime() - s;
        int left = routes(ip);
        System.out.printf("   %-8s add %d peers: %7.1f ms (target <= 1000 ms, %.0fx faster than one process per route) | remove all: %7.1f ms, %d routes left%n",
                name, peers, add / 1e6, (double) naive / add, remove / 1e6, left);
        return bad | (left == 0 ? 0 : 1);
    }

    /** One process per route, for at most {@value #NAIVE_SAMPLE} routes, scaled to {@code peers}. */
    private static long naive(IpRunner ip, int peers) {
        int sample = Math.min(peers, NAIVE_SAMPLE);
        long s = System.nanoTime();
        for (int i = 1; i <= sample; i++) {
            Lease l = lease(i, "host-gw", "null");
            ip.run("ip", "route", "replace", l.subnet().toString(), "via", l.attrs().publicIpString(), "dev", "eth0", "proto", "static");
        }
        long t = (System.nanoTime() - s) * peers / sample;
        System.out.printf("   %-8s add %d peers: %7.1f ms (baseline: one `ip route replace` process per peer, measured on %d, scaled)%n",
                "naive", peers, t / 1e6, sample);
        return t;
    }

    private static int check(IpRunner ip, int peers, String name) {
        int n = routes(ip);
        if (n != peers) {
            System.out.printf("FAIL: %s left %d routes to peer subnets, expected %d%n", name, n, peers);
            return 1;
        }
        return 0;
    }

    private static int routes(IpRunner ip) {
        return (int) ip.run("ip", "-4", "route", "show", "root", "10.0.0.0/8").lines().filter(l -> !l.isBlank()).count();
    }

    /** Peer i: subnet 10.(i/256).(i%256).0/24, public IP 192.168.(i/256).(i%256+2). */
    private static Lease lease(int i, String type, String data) {
        Ip4Net subnet = new Ip4Net(Ip4Net.parseAddress("10.0.0.0") + ((i + 1) << 8), 24);
        int publicIp = Ip4Net.parseAddress("192.168.0.2") + i;
        return new Lease(subnet, new LeaseAttrs(publicIp, type, data), 0, Instant.MAX);
    }
}
