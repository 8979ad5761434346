package dev.railyard.overlay.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.railyard.overlay.config.ConfigException;
import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Address;
import dev.railyard.overlay.config.Ip6Net;
import dev.railyard.overlay.config.NetworkConfig;
import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseAttrs;
import dev.railyard.overlay.lease.LeaseEvent;
import dev.railyard.overlay.lease.LeaseException;
import dev.railyard.overlay.lease.LeaseListener;
import dev.railyard.overlay.lease.LeaseSubnets;
import dev.railyard.overlay.lease.StoredNodeState;
import dev.railyard.proxy.source.kubernetes.ApiClients;
import dev.railyard.testkit.kubernetes.TestApiServer;
import io.kubernetes.client.openapi.models.V1Node;
import io.kubernetes.client.openapi.models.V1NodeCondition;
import io.kubernetes.client.openapi.models.V1NodeSpec;
import io.kubernetes.client.openapi.models.V1NodeStatus;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The kube subnet manager against the test API server: flannel's annotations, PATCHes, conditions and peers. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class KubeSubnetManagerTest {
    private static final String P = "flannel.alpha.coreos.com/";
    private static final NetworkConfig DUAL = NetworkConfig.parse("{\"Network\":\"10.244.0.0/16\",\"EnableIPv6\":true,"
            + "\"IPv6Network\":\"fd00:10:244::/56\",\"Backend\":{\"Type\":\"vxlan\"}}");
    private static final String MAC = "0a:58:0a:f4:01:01";
    private static final String MAC6 = "0a:58:0a:f4:01:06";

    private TestApiServer api;
    private final List<KubeSubnetManager> managers = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        api = TestApiServer.start();
    }

    @AfterEach
    void stop() {
        managers.forEach(KubeSubnetManager::close);
        api.close();
    }

    private KubeSubnetManager manager(String node, NetworkConfig config, Duration nodeWait) throws Exception {
        KubeSubnetManager m = new KubeSubnetManager(ApiClients.fromMaster(api.url()), config,
                new KubeSubnetManager.Settings(node, NodeAnnotations.withPrefix(null), true, nodeWait));
        managers.add(m);
        return m;
    }

    private V1Node node(String name, Map<String, String> annotations, String... podCidrs) {
        V1NodeSpec spec = new V1NodeSpec();
        if (podCidrs.length > 0) {
            spec.podCIDR(podCidrs[0]).podCIDRs(List.of(podCidrs));
        }
        return api.create(new V1Node().metadata(new V1ObjectMeta().name(name).annotations(annotations)).spec(spec)
                .status(new V1NodeStatus().conditions(List.of(new V1NodeCondition().type("Ready").status("True")))));
    }

    private static LeaseAttrs vxlanAttrs(String ip, String ip6) {
        return new LeaseAttrs(Ip4Net.parseAddress(ip), Ip6Address.parse(ip6), "vxlan",
                "{\"VNI\":1,\"VtepMAC\":\"" + MAC + "\"}", "{\"VNI\":1,\"VtepMAC\":\"" + MAC6 + "\"}");
    }

    @Test
    void leasesTheNodesPodCidrsAndPublishesFlannelsAnnotations() throws Exception {
        node("node-a", Map.of("unrelated", "kept"), "10.244.3.0/24", "fd00:10:244:3::/64");
        KubeSubnetManager m = manager("node-a", DUAL, null);
        assertThat(m.storedState()).isEqualTo(StoredNodeState.NONE);

        Lease lease = m.acquire(vxlanAttrs("192.168.5.1", "fd05::1"), null);
        assertThat(lease.subnets()).isEqualTo(new LeaseSubnets(Ip4Net.parse("10.244.3.0/24"), Ip6Net.parse("fd00:10:244:3::/64")));
        assertThat(lease.isReservation()).as("never expires").isTrue();
        V1Node stored = api.get(TestApiServer.Resource.NODES, null, "node-a");
        assertThat(stored.getMetadata().getAnnotations()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "unrelated", "kept",
                P + "backend-type", "vxlan",
                P + "backend-data", "{\"VNI\":1,\"VtepMAC\":\"" + MAC + "\"}",
                P + "backend-v6-data", "{\"VNI\":1,\"VtepMAC\":\"" + MAC6 + "\"}",
                P + "public-ip", "192.168.5.1",
                P + "public-ipv6", "fd05::1",
                P + "kube-subnet-manager", "true"));
        assertThat(stored.getSpec().getPodCIDRs()).containsExactly("10.244.3.0/24", "fd00:10:244:3::/64");
        assertThat(api.patchRequests()).isEqualTo(1);

        // a restart with the same attributes writes nothing; one that published before reuses its MACs
        KubeSubnetManager again = manager("node-a", DUAL, null);
        assertThat(again.storedState()).isEqualTo(new StoredNodeState(null, null, MAC, MAC6));
        again.acquire(vxlanAttrs("192.168.5.1", "fd05::1"), null);
        assertThat(api.patchRequests()).isEqualTo(1);

        // CompleteLease: NetworkUnavailable=False with flannel's reason, merged beside the kubelet's conditions
        again.leaseInUse(lease);
        List<V1NodeCondition> conditions = api.<V1Node>get(TestApiServer.Resource.NODES, null, "node-a").getStatus().getConditions();
        assertThat(conditions).extracting(V1NodeCondition::getType).containsExactly("Ready", "NetworkUnavailable");
        assertThat(conditions.get(1).getStatus()).isEqualTo("False");
        assertThat(conditions.get(1).getReason()).isEqualTo("FlannelIsUp");
        assertThat(conditions.get(1).getLastTransitionTime()).isNotNull();
    }

    @Test
    void anOperatorsAddressesWin() throws Exception {
        node("node-b", Map.of(P + "public-ip-overwrite", "203.0.113.7", P + "node-public-ip", "192.168.5.2",
                P + "node-public-ipv6", "fd05::2"), "10.244.4.0/24", "fd00:10:244:4::/64");
        KubeSubnetManager m = manager("node-b", DUAL, null);
        assertThat(m.storedState()).isEqualTo(new StoredNodeState("192.168.5.2", "fd05::2", null, null));
        Lease lease = m.acquire(vxlanAttrs("192.168.5.2", "fd05::2"), null);
        // peers must use the overwrite (e.g. the node's NAT address)
        assertThat(lease.attrs().publicIpString()).isEqualTo("203.0.113.7");
        assertThat(api.<V1Node>get(TestApiServer.Resource.NODES, null, "node-b").getMetadata().getAnnotations())
                .containsEntry(P + "public-ip", "203.0.113.7").containsEntry(P + "public-ipv6", "fd05::2");
    }

    @Test
    void aNodeThatCannotBeLeasedSaysWhy() throws Exception {
        node("no-cidr", Map.of());
        node("outside", Map.of(), "10.99.0.0/24", "fd00:10:244:9::/64");
        node("v4-only", Map.of(), "10.244.9.0/24");
        node("three", Map.of(), "10.244.9.0/24", "fd00:10:244:9::/64", "10.244.10.0/24");
        LeaseAttrs attrs = vxlanAttrs("192.168.5.9", "fd05::9");
        assertThatThrownBy(() -> manager("no-cidr", DUAL, null).acquire(attrs, null)).isInstanceOf(LeaseException.class)
                .hasMessageContaining("node no-cidr has no pod CIDR yet (spec.podCIDR)");
        assertThatThrownBy(() -> manager("outside", DUAL, null).acquire(attrs, null)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("node outside: pod CIDR 10.99.0.0/24 is not inside the net-conf Network 10.244.0.0/16");
        assertThatThrownBy(() -> manager("v4-only", DUAL, null).acquire(attrs, null)).isInstanceOf(LeaseException.class)
                .hasMessageContaining("node v4-only has no IPv6 pod CIDR in spec.podCIDRs [10.244.9.0/24]");
        assertThatThrownBy(() -> manager("three", DUAL, null).acquire(attrs, null)).isInstanceOf(LeaseException.class)
                .hasMessageContaining("should be one IPv4 and/or one IPv6 CIDR");
        assertThatThrownBy(() -> manager("missing", DUAL, Duration.ofMillis(300)).acquire(attrs, null))
                .isInstanceOf(LeaseException.class).hasMessageContaining("node missing does not exist");
        assertThatThrownBy(() -> new KubeSubnetManager.Settings("", null, true, null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("set NODE_NAME");
        assertThatThrownBy(() -> NodeAnnotations.withPrefix("a/b/c")).hasMessageContaining("at most one slash");
        assertThat(NodeAnnotations.withPrefix("example.com/team").publicIp()).isEqualTo("example.com/team-public-ip");
        assertThat(NodeAnnotations.withPrefix("example.com").publicIp()).isEqualTo("example.com/public-ip");
    }

    /** Records what a watch delivers, as the daemon's backend would receive it. */
    private static final class Recorder implements LeaseListener {
        final Map<LeaseSubnets, Lease> leases = new HashMap<>();
        final List<String> log = new ArrayList<>();

        @Override
        public synchronized void reset(List<Lease> all) {
            leases.clear();
            all.forEach(l -> leases.put(l.subnets(), l));
            log.add("reset " + all.size());
        }

        @Override
        public synchronized void changed(List<LeaseEvent> events) {
            for (LeaseEvent e : events) {
                if (e.type() == LeaseEvent.Type.ADDED) {
                    leases.put(e.lease().subnets(), e.lease());
                } else {
                    leases.remove(e.lease().subnets());
                }
                log.add(e.type() + " " + e.lease().subnets());
            }
        }

        synchronized Map<LeaseSubnets, Lease> snapshot() {
            return Map.copyOf(leases);
        }
    }

    @Test
    void peersAreTheNodesFlannelAnnotatedAndFollowTheirChanges() throws Exception {
        node("me", Map.of(), "10.244.1.0/24", "fd00:10:244:1::/64");
        // a node flanneld runs on, annotated as flannel writes it
        Map<String, String> flanneld = new HashMap<>(Map.of(P + "kube-subnet-manager", "true",
                P + "backend-type", "vxlan", P + "backend-data", "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:01\"}",
                P + "backend-v6-data", "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:02\"}",
                P + "public-ip", "192.168.5.20", P + "public-ipv6", "fd05::20"));
        node("flanneld", flanneld, "10.244.20.0/24", "fd00:10:244:20::/64");
        node("plain", Map.of(), "10.244.21.0/24", "fd00:10:244:21::/64"); // no flannel: not a peer
        node("broken", Map.of(P + "kube-subnet-manager", "true", P + "backend-type", "vxlan",
                P + "public-ip", "192.168.5.300", P + "public-ipv6", "fd05::22"), "10.244.22.0/24", "fd00:10:244:22::/64");

        KubeSubnetManager m = manager("me", DUAL, null);
        m.acquire(vxlanAttrs("192.168.5.1", "fd05::1"), null);
        Recorder r = new Recorder();
        AutoCloseable watch = m.watch(r);
        try {
            LeaseSubnets flannelSubnets = new LeaseSubnets(Ip4Net.parse("10.244.20.0/24"), Ip6Net.parse("fd00:10:244:20::/64"));
            LeaseSubnets mine = new LeaseSubnets(Ip4Net.parse("10.244.1.0/24"), Ip6Net.parse("fd00:10:244:1::/64"));
            awaitLeases(r, Map.of(flannelSubnets, "192.168.5.20", mine, "192.168.5.1"));
            Lease peer = r.snapshot().get(flannelSubnets);
            assertThat(peer.attrs()).isEqualTo(new LeaseAttrs(Ip4Net.parseAddress("192.168.5.20"), Ip6Address.parse("fd05::20"),
                    "vxlan", "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:01\"}", "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:02\"}"));

            // flanneld restarts with a new MAC: the update comes through
            V1Node n = api.get(TestApiServer.Resource.NODES, null, "flanneld");
            n.getMetadata().getAnnotations().put(P + "backend-data", "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:09\"}");
            api.update(n);
            awaitCondition(() -> r.snapshot().get(flannelSubnets).attrs().backendDataJson().contains("aa:bb:cc:00:00:09"));

            // the watch breaks and history is compacted: a relist still ends in the right state
            api.compact();
            api.dropWatches();
            node("late", Map.of(P + "kube-subnet-manager", "true", P + "backend-type", "vxlan",
                    P + "backend-data", "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:23\"}",
                    P + "backend-v6-data", "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:00:00:24\"}",
                    P + "public-ip", "192.168.5.23", P + "public-ipv6", "fd05::23"), "10.244.23.0/24", "fd00:10:244:23::/64");
            LeaseSubnets late = new LeaseSubnets(Ip4Net.parse("10.244.23.0/24"), Ip6Net.parse("fd00:10:244:23::/64"));
            awaitLeases(r, Map.of(flannelSubnets, "192.168.5.20", mine, "192.168.5.1", late, "192.168.5.23"));

            // a node that is deleted stops being a peer
            api.delete(new V1Node().metadata(new V1ObjectMeta().name("flanneld")));
            awaitLeases(r, Map.of(mine, "192.168.5.1", late, "192.168.5.23"));
            assertThat(r.log).contains("REMOVED " + flannelSubnets);
        } finally {
            watch.close();
        }
    }

    private static void awaitLeases(Recorder r, Map<LeaseSubnets, String> expected) {
        awaitCondition(() -> {
            Map<LeaseSubnets, Lease> now = r.snapshot();
            if (!now.keySet().equals(expected.keySet())) {
                return false;
            }
            return expected.entrySet().stream().allMatch(e -> now.get(e.getKey()).attrs().publicIpString().equals(e.getValue()));
        });
    }

    private static void awaitCondition(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition not met within 20 s").isLessThan(deadline);
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
