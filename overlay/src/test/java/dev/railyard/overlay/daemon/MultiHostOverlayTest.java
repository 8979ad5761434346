package dev.railyard.overlay.daemon;

import static dev.railyard.overlay.daemon.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.etcd.EtcdCluster;
import dev.railyard.overlay.etcd.RequiresEtcd;
import dev.railyard.overlay.lease.EtcdSubnetManager;
import dev.railyard.overlay.lease.SubnetKeys;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three hosts on one link, a daemon and a pod on each: pods reach each other across hosts, and a
 * host that goes away disappears from the others' data plane.
 */
@RequiresEtcd
@RequiresPrivileges(commands = {"ip", "bridge", "iptables", "iptables-restore"})
class MultiHostOverlayTest {
    private static final Duration PROBE = Duration.ofSeconds(2);
    private static final AtomicInteger PREFIXES = new AtomicInteger();
    private static EtcdCluster etcd;

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = EtcdCluster.start(1);
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    private static OverlayHosts hosts(String config, Duration ttl) throws Exception {
        String prefix = "/multi" + PREFIXES.incrementAndGet() + "/network";
        OverlayHosts hosts = new OverlayHosts(etcd, prefix, 3, ttl);
        try (EtcdSubnetManager m = new EtcdSubnetManager(hosts.etcdOptions())) {
            m.putNetworkConfig(config);
        }
        return hosts;
    }

    private static void assertPodsReachEachOther(OverlayHosts hosts) {
        for (OverlayHosts.Host server : hosts.hosts()) {
            server.agent.tcpServe(8080, "pod-" + server.ns().name());
        }
        for (OverlayHosts.Host client : hosts.hosts()) {
            for (OverlayHosts.Host server : hosts.hosts()) {
                if (client == server) {
                    continue;
                }
                eventually(Duration.ofSeconds(10), () -> {
                    ProbeResult r = client.agent.tcpGet(server.podIp, 8080, PROBE);
                    assertThat(r.isOk()).as("%s -> %s: %s", client.podIp, server.podIp, r).isTrue();
                    // no NAT between pods: the server sees the client pod's own address
                    assertThat(r.serverReply().clientIp()).isEqualTo(client.podIp);
                    assertThat(r.serverReply().serverName()).isEqualTo("pod-" + server.ns().name());
                });
            }
        }
    }

    @Test
    void hostGwRoutesPodsAcrossHostsAndForgetsAHostThatLeaves() throws Exception {
        try (OverlayHosts hosts = hosts("{\"Network\":\"10.50.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}", Duration.ofSeconds(4))) {
            for (OverlayHosts.Host h : hosts.hosts()) {
                h.start(false);
                h.addPod();
            }
            OverlayHosts.Host h0 = hosts.host(0);
            OverlayHosts.Host h2 = hosts.host(2);
            assertThat(Files.readString(h0.subnetFile)).isEqualTo("FLANNEL_NETWORK=10.50.0.0/16\n"
                    + "FLANNEL_SUBNET=" + Ip4Net.formatAddress(h0.subnet().addressAt(1)) + "/24\n"
                    + "FLANNEL_MTU=1500\nFLANNEL_IPMASQ=false\n");
            eventually(Duration.ofSeconds(10), () -> assertThat(h0.routes())
                    .contains(h2.subnet() + " via " + h2.link.ipv4() + " dev eth0")
                    .contains(hosts.host(1).subnet() + " via " + hosts.host(1).link.ipv4() + " dev eth0"));
            assertPodsReachEachOther(hosts);

            // Stray keys: one inside the network is a peer like any other; one outside it (the hosts' own kind of
            // address) must not be routed into the overlay.
            SubnetKeys keys = new SubnetKeys(hosts.etcdOptions().prefix());
            String inside = keys.subnetKey(Ip4Net.parse("10.50.250.0/24"));
            String outside = keys.subnetKey(Ip4Net.parse("192.168.250.0/24"));
            String attrs = "{\"PublicIP\":\"" + h2.link.ipv4() + "\",\"BackendType\":\"host-gw\"}";
            try (Client etcd = Client.builder().endpoints(hosts.etcdOptions().endpoints().toArray(String[]::new))
                    .build()) {
                etcd.getKVClient().put(bytes(outside), bytes(attrs)).get();
                etcd.getKVClient().put(bytes(inside), bytes(attrs)).get();
                eventually(Duration.ofSeconds(10), () -> assertThat(h0.routes())
                        .contains("10.50.250.0/24 via " + h2.link.ipv4() + " dev eth0"));
                assertThat(h0.routes()).doesNotContain("192.168.250.0/24");
                etcd.getKVClient().delete(bytes(outside)).get();
                etcd.getKVClient().delete(bytes(inside)).get();
                eventually(Duration.ofSeconds(10), () -> assertThat(h0.routes()).doesNotContain("10.50.250.0/24"));
            }

            // host 0's lease vanishes (as if it expired): its daemon notices through the watch and takes
            // the same subnet again, and the peers' routes come back
            OverlayHosts.Host h1 = hosts.host(1);
            Ip4Net h0Subnet = h0.subnet();
            long oldLease = h0.daemon.lease().etcdLeaseId();
            try (EtcdSubnetManager admin = new EtcdSubnetManager(hosts.etcdOptions())) {
                admin.release(h0.daemon.lease());
                eventually(Duration.ofSeconds(15), () -> {
                    assertThat(h0.daemon.lease().etcdLeaseId()).isNotEqualTo(oldLease);
                    assertThat(h0.daemon.lease().subnet()).isEqualTo(h0Subnet);
                    assertThat(admin.list().leases()).anySatisfy(l -> {
                        assertThat(l.subnet()).isEqualTo(h0Subnet);
                        assertThat(l.attrs().publicIpString()).isEqualTo(h0.link.ipv4());
                    });
                    assertThat(h1.routes()).contains(h0Subnet + " via " + h0.link.ipv4() + " dev eth0");
                });
            }
            eventually(Duration.ofSeconds(10), () -> assertThat(h1.agent.tcpGet(h0.podIp, 8080, PROBE).isOk()).isTrue());

            Ip4Net leaving = h2.subnet();
            // a route deleted by hand comes back on the next resync
            h1.ns().execChecked("ip", "route", "del", h2.subnet().toString());
            eventually(Duration.ofSeconds(10), () -> assertThat(h1.routes()).contains(h2.subnet() + " via " + h2.link.ipv4()));

            h2.stop(); // dies without releasing: its 4 s lease expires and the others notice
            for (int i = 0; i < 2; i++) {
                OverlayHosts.Host h = hosts.host(i);
                eventually(Duration.ofSeconds(15), () -> assertThat(h.routes()).doesNotContain(leaving.toString()));
            }
            ProbeResult gone = h0.agent.tcpGet(h2.podIp, 8080, Duration.ofSeconds(1));
            assertThat(gone.isOk()).as("pod of the departed host must be unreachable: %s", gone).isFalse();
            assertThat(h0.agent.tcpGet(hosts.host(1).podIp, 8080, PROBE).isOk()).isTrue();
        }
    }

    @Test
    void vxlanCarriesPodTrafficAndCleansUpAfterAHostLeaves() throws Exception {
        try (OverlayHosts hosts = hosts("{\"Network\":\"10.60.0.0/16\",\"Backend\":{\"Type\":\"vxlan\",\"VNI\":7}}",
                Duration.ofSeconds(4))) {
            for (OverlayHosts.Host h : hosts.hosts()) {
                h.start(false);
                h.addPod();
            }
            OverlayHosts.Host h0 = hosts.host(0);
            OverlayHosts.Host h1 = hosts.host(1);
            assertThat(h0.ns().execChecked("ip", "-d", "link", "show", "flannel.7").stdout())
                    .contains("vxlan id 7").contains("dstport 8472");
            assertThat(Files.readString(h0.subnetFile)).contains("FLANNEL_MTU=1450");
            String h1Mac = h1.daemon.lease().attrs().backendData().getAsJsonObject().get("VtepMAC").getAsString();
            eventually(Duration.ofSeconds(10), () -> {
                assertThat(h0.routes()).contains(h1.subnet() + " via " + h1.subnet().addressString() + " dev flannel.7 onlink");
                assertThat(h0.ns().execChecked("bridge", "fdb", "show", "dev", "flannel.7").stdout())
                        .contains(h1Mac + " dst " + h1.link.ipv4());
                assertThat(h0.ns().execChecked("ip", "neigh", "show", "dev", "flannel.7").stdout())
                        .contains(h1.subnet().addressString() + " lladdr " + h1Mac);
            });
            assertPodsReachEachOther(hosts);

            // someone deletes the VXLAN device (and with it every route, neighbour and FDB entry through it):
            // the daemon re-creates it with the same MAC and reprograms the peers, without etcd's help
            OverlayHosts.Host h2 = hosts.host(2);
            h0.ns().execChecked("ip", "link", "del", "flannel.7");
            eventually(Duration.ofSeconds(15), () -> {
                assertThat(h0.ns().execChecked("ip", "link", "show", "flannel.7").stdout())
                        .contains(h0.daemon.lease().attrs().backendData().getAsJsonObject().get("VtepMAC").getAsString());
                assertThat(h0.routes()).contains(h2.subnet() + " via " + h2.subnet().addressString() + " dev flannel.7 onlink");
                assertThat(h0.agent.tcpGet(h2.podIp, 8080, PROBE).isOk()).isTrue();
                assertThat(h2.agent.tcpGet(h0.podIp, 8080, PROBE).isOk()).isTrue();
            });

            Ip4Net leaving = h1.subnet();
            h1.stop();
            eventually(Duration.ofSeconds(15), () -> {
                assertThat(h0.routes()).doesNotContain(leaving.toString());
                assertThat(h0.ns().execChecked("bridge", "fdb", "show", "dev", "flannel.7").stdout()).doesNotContain(h1Mac);
                assertThat(h0.ns().execChecked("ip", "neigh", "show", "dev", "flannel.7").stdout())
                        .doesNotContain(leaving.addressString() + " ");
            });
            assertThat(h0.agent.tcpGet(hosts.host(2).podIp, 8080, PROBE).isOk()).isTrue();
        }
    }

    @Test
    void vxlanWithDirectRoutingRoutesPeersOnTheSameLinkWithoutEncapsulation() throws Exception {
        try (OverlayHosts hosts = hosts("{\"Network\":\"10.65.0.0/16\",\"Backend\":{\"Type\":\"vxlan\",\"DirectRouting\":true}}",
                Duration.ofMinutes(5))) {
            for (OverlayHosts.Host h : hosts.hosts()) {
                h.start(false);
                h.addPod();
            }
            OverlayHosts.Host h0 = hosts.host(0);
            OverlayHosts.Host h1 = hosts.host(1);
            eventually(Duration.ofSeconds(10), () -> assertThat(h0.routes())
                    .contains(h1.subnet() + " via " + h1.link.ipv4() + " dev eth0")
                    .doesNotContain("dev flannel.1 onlink"));
            assertThat(h0.ns().execChecked("bridge", "fdb", "show", "dev", "flannel.1").stdout()).doesNotContain(" dst ");
            assertPodsReachEachOther(hosts);
        }
    }

    @Test
    void ipMasqHidesPodsFromTheOutsideButNotFromEachOther() throws Exception {
        try (OverlayHosts hosts = hosts("{\"Network\":\"10.70.0.0/16\",\"Backend\":{\"Type\":\"host-gw\"}}", Duration.ofMinutes(5))) {
            for (OverlayHosts.Host h : hosts.hosts()) {
                h.start(true);
                h.addPod();
            }
            OverlayHosts.Host h0 = hosts.host(0);
            OverlayHosts.Host h1 = hosts.host(1);
            assertThat(Files.readString(h0.subnetFile)).contains("FLANNEL_IPMASQ=true");
            // a server on host 1's own address, i.e. outside the pod network
            try (var hostAgent = dev.railyard.testkit.AgentHandle.start(h1.ns())) {
                hostAgent.tcpServe(h1.link.ipv4(), 9090, "node1");
                eventually(Duration.ofSeconds(10), () -> {
                    ProbeResult r = h0.agent.tcpGet(h1.link.ipv4(), 9090, PROBE);
                    assertThat(r.isOk()).as("%s", r).isTrue();
                    assertThat(r.serverReply().clientIp()).as("masqueraded to host 0's address").isEqualTo(h0.link.ipv4());
                });
            }
            assertPodsReachEachOther(hosts);
            // restarting keeps the subnet (from subnet.env) and re-applies the rules without duplicating them
            Ip4Net before = h0.subnet();
            h0.stop();
            h0.start(true);
            assertThat(h0.subnet()).isEqualTo(before);
            // and without subnet.env (a reboot cleared /run) the host index still finds it
            h0.stop();
            Files.delete(h0.subnetFile);
            h0.start(true);
            assertThat(h0.subnet()).isEqualTo(before);
            String nat = h0.ns().execChecked("iptables-save", "-t", "nat").stdout();
            assertThat(nat.lines().filter(l -> l.contains("-j RAILYARD-POSTRTG")).count()).isEqualTo(1);
            assertThat(nat.lines().filter(l -> l.contains("MASQUERADE")).count()).isEqualTo(2);
        }
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
