package dev.railyard.overlay.daemon;

import static dev.railyard.overlay.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.etcd.RequiresEtcd;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The seed clusters' life: 10 vxlan hosts, then 50 random operations, each one of: restart a host; stop several and
 * start them again in random order; decommission one (its lease is revoked and its machine goes); add a new machine;
 * decommission one while another is down.
 * After each, once settled: every host has exactly the routes, neighbour and FDB entries of the hosts present (none
 * of departed ones, none missing), every pod reaches every other pod without NAT, no subnet is held twice and etcd
 * holds exactly the present hosts' leases, and restarted hosts kept their subnets. The seed is printed; set
 * {@code -Drailyard.churn.seed=N} to replay a run.
 */
@RequiresEtcd
@RequiresPrivileges(commands = {"ip", "bridge", "sysctl"})
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class NodeChurnTest {
    private static final int HOSTS = 10;
    private static final int OPERATIONS = 50;
    private static final Duration PROBE = Duration.ofSeconds(2);

    @Test
    void tenHostsSurviveFiftyRandomRestartsLeavesAndJoins() throws Exception {
        long seed = Long.getLong("railyard.churn.seed", System.nanoTime());
        System.out.println("NodeChurnTest seed " + seed + " (replay with -Drailyard.churn.seed=" + seed + ")");
        Random random = new Random(seed);
        String prefix = "/churn/network";
        try (EtcdCluster etcd = EtcdCluster.start(1);
             OverlayHosts hosts = OverlayHosts.etcd(etcd, prefix, Duration.ofMinutes(10), true, false, HOSTS)) {
            try (EtcdSubnetManager admin = new EtcdSubnetManager(hosts.etcdOptions())) {
                admin.putNetworkConfig("{\"Network\":\"10.60.0.0/16\",\"Backend\":{\"Type\":\"vxlan\"}}");
            }
            for (OverlayHosts.Host h : hosts.hosts()) {
                bringUp(h);
            }
            settled(hosts, Map.of());
            Map<String, Integer> counts = new HashMap<>();
            for (int op = 1; op <= OPERATIONS; op++) {
                List<OverlayHosts.Host> present = hosts.hosts();
                Map<OverlayHosts.Host, Ip4Net> mustKeep = new HashMap<>();
                String what;
                int dice = random.nextInt(10);
                if (dice < 2 && present.size() > 6) {
                    OverlayHosts.Host leaving = present.get(random.nextInt(present.size()));
                    what = "leave " + leaving.nodeName;
                    hosts.leave(leaving);
                } else if (dice < 4 && present.size() < HOSTS) {
                    OverlayHosts.Host joining = hosts.join();
                    what = "join " + joining.nodeName;
                    bringUp(joining);
                } else if (dice == 9 && present.size() > 6) {
                    // a host is down while a peer is decommissioned: when it comes back it must drop that peer too
                    List<OverlayHosts.Host> two = new ArrayList<>(present);
                    Collections.shuffle(two, random);
                    OverlayHosts.Host down = two.get(0);
                    OverlayHosts.Host leaving = two.get(1);
                    what = "down " + down.nodeName + " while " + leaving.nodeName + " leaves";
                    mustKeep.put(down, down.subnet());
                    down.stop();
                    hosts.leave(leaving);
                    down.start(false);
                } else if (dice < 7) {
                    OverlayHosts.Host h = present.get(random.nextInt(present.size()));
                    what = "restart " + h.nodeName;
                    mustKeep.put(h, h.subnet());
                    h.stop();
                    h.start(false);
                } else {
                    List<OverlayHosts.Host> several = new ArrayList<>(present);
                    Collections.shuffle(several, random);
                    several = several.subList(0, 2 + random.nextInt(3));
                    for (OverlayHosts.Host h : several) {
                        mustKeep.put(h, h.subnet());
                        h.stop();
                    }
                    Collections.shuffle(several, random);
                    what = "stop and restart " + several.stream().map(h -> h.nodeName).collect(Collectors.joining(" "));
                    for (OverlayHosts.Host h : several) {
                        h.start(false);
                    }
                }
                counts.merge(what.split(" ")[0], 1, Integer::sum);
                long start = System.nanoTime();
                settled(hosts, mustKeep);
                System.out.printf("churn %2d: %-45s %d hosts, settled and checked in %d ms%n", op, what,
                        hosts.hosts().size(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            }
            System.out.println("churn operations: " + counts);
        }
    }

    private static void bringUp(OverlayHosts.Host h) {
        h.start(false);
        h.addPod();
        h.agent.tcpServe(8080, h.nodeName);
    }

    /** Everything the issue asks of a settled cluster; waits for the data plane, then checks the rest once. */
    private static void settled(OverlayHosts hosts, Map<OverlayHosts.Host, Ip4Net> mustKeep) {
        List<OverlayHosts.Host> present = hosts.hosts();
        for (Map.Entry<OverlayHosts.Host, Ip4Net> kept : mustKeep.entrySet()) {
            assertThat(kept.getKey().subnet()).as("%s kept its subnet across the restart", kept.getKey().nodeName)
                    .isEqualTo(kept.getValue());
        }
        Set<Ip4Net> subnets = new HashSet<>();
        for (OverlayHosts.Host h : present) {
            assertThat(subnets.add(h.subnet())).as("%s holds %s, which another host holds too", h.nodeName, h.subnet()).isTrue();
        }
        Map<String, Ip4Net> expected = present.stream().collect(Collectors.toMap(h -> h.link.ipv4(), OverlayHosts.Host::subnet));
        try (EtcdSubnetManager admin = new EtcdSubnetManager(hosts.etcdOptions())) {
            // retried: on a loaded machine one etcd request can time out
            eventually(Duration.ofSeconds(30), () -> {
                Map<String, Ip4Net> inEtcd = new HashMap<>();
                for (Lease l : admin.list().leases()) {
                    assertThat(inEtcd.put(l.attrs().publicIpString(), l.subnet())).as("two leases for %s", l.attrs().publicIpString()).isNull();
                }
                assertThat(inEtcd).as("etcd holds exactly the present hosts' leases").isEqualTo(expected);
            });
        }
        for (OverlayHosts.Host h : present) {
            eventually(Duration.ofSeconds(30), () -> assertThat(programmed(h)).as("what %s programmed", h.nodeName)
                    .isEqualTo(expectedOn(h, present)));
        }
        for (OverlayHosts.Host client : present) {
            for (OverlayHosts.Host server : present) {
                if (client != server) {
                    eventually(Duration.ofSeconds(10), () -> {
                        ProbeResult r = client.agent.tcpGet(server.podIp, 8080, PROBE);
                        assertThat(r.isOk()).as("%s -> %s: %s", client.nodeName, server.nodeName, r).isTrue();
                        assertThat(r.serverReply().clientIp()).isEqualTo(client.podIp);
                        assertThat(r.serverReply().serverName()).isEqualTo(server.nodeName);
                    });
                }
            }
        }
    }

    private static String vtepMac(OverlayHosts.Host h) {
        return h.daemon.lease().attrs().backendData().getAsJsonObject().get("VtepMAC").getAsString();
    }

    /** The routes, FDB and neighbour entries a host must have for its peers: one of each per other present host. */
    private static Set<String> expectedOn(OverlayHosts.Host self, List<OverlayHosts.Host> present) {
        Set<String> expected = new HashSet<>();
        for (OverlayHosts.Host peer : present) {
            if (peer != self) {
                Ip4Net s = peer.subnet();
                expected.add("route " + s + " via " + s.addressString());
                expected.add("fdb " + vtepMac(peer) + " dst " + peer.link.ipv4());
                expected.add("neigh " + s.addressString() + " " + vtepMac(peer));
            }
        }
        return expected;
    }

    /** What the host's flannel.1 carries now, in the same words. */
    private static Set<String> programmed(OverlayHosts.Host h) {
        Set<String> now = new HashSet<>();
        for (String line : h.ns().execChecked("ip", "-4", "route", "show", "dev", "flannel.1").stdout().split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length >= 3 && w[1].equals("via")) {
                now.add("route " + w[0] + " via " + w[2]);
            }
        }
        for (String line : h.ns().execChecked("bridge", "fdb", "show", "dev", "flannel.1").stdout().split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length >= 3 && w[1].equals("dst")) {
                now.add("fdb " + w[0] + " dst " + w[2]);
            }
        }
        for (String line : h.ns().execChecked("ip", "neigh", "show", "dev", "flannel.1", "nud", "permanent").stdout().split("\n")) {
            String[] w = line.trim().split("\\s+");
            if (w.length >= 3 && w[1].equals("lladdr")) {
                now.add("neigh " + w[0] + " " + w[2]);
            }
        }
        return now;
    }
}
