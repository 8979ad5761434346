package dev.railyard.proxy.kernel;

import static dev.railyard.proxy.kernel.NodeTopology.PROBE_TIMEOUT;
import static dev.railyard.proxy.kernel.NodeTopology.connect;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.NftCommand;
import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.daemon.ModeLeftovers;
import dev.railyard.proxy.daemon.ProxyMode;
import dev.railyard.proxy.kernel.NodeTopology.Addresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.LocalTrafficDetector;
import dev.railyard.proxy.render.LocalTrafficDetector.Mode;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.proxy.source.NodeInfo;
import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.ServerReply;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The kube-proxy 1.33+ features with real packets, in both modes, on {@link NodeTopology}'s node (node-a, IPv4):
 * topology hints (node-a in zone-a reaches only zone-a's pod while the hints allow it, both pods when they do
 * not; hints.forNodes win over zones), an {@code ipMode: Proxy} load-balancer IP that no rule captures, and each
 * --detect-local-mode masquerading exactly the sources it should, as the pod sees them.
 */
@RequiresPrivileges(commands = {"iptables-restore", "nft", "ip"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ParityTrafficTest {
    private static final Addresses NET = NodeTopology.V4;
    private static final String TO_POD1 = NET.serviceIp(101);
    private static final String ZONED = NET.serviceIp(102);
    private static final String NODE_HINTED = NET.serviceIp(103);
    private static final String PARTLY_HINTED = NET.serviceIp(105);
    private static final String LB_VIP = NET.publicIp(50);
    private static final String LB_PROXY = NET.publicIp(51);
    /** A second address of the client, inside the cluster CIDR but arriving on the client's link. */
    private static final String CLIENT_IN_CLUSTER_CIDR = "10.244.9.9";
    private static final int PORT = NodeTopology.POD_TCP_PORT;

    enum Engine { IPTABLES, NFTABLES }

    private NodeTopology topology;
    private AgentHandle client;
    private AgentHandle pod2;

    @BeforeAll
    void buildNode() {
        topology = NodeTopology.create(List.of(NET));
        client = topology.client();
        pod2 = topology.pod2();
        // The load balancer of the Proxy-mode IP stands behind the node at pod2's place: routed, never DNATed.
        pod2.namespace().execChecked("ip", "addr", "add", LB_PROXY + "/32", "dev", "eth0");
        topology.node().execChecked("ip", "route", "add", LB_PROXY + "/32", "via", NET.pod2Ip());
        client.namespace().execChecked("ip", "addr", "add", CLIENT_IN_CLUSTER_CIDR + "/32", "dev", "eth0");
    }

    @AfterAll
    void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    static String manifests(String zone) {
        return """
                apiVersion: v1
                kind: Node
                metadata:
                  name: node-a
                  labels: {topology.kubernetes.io/zone: %s}
                spec:
                  podCIDRs: [10.244.1.0/24]
                """.formatted(zone)
                + service("to-pod1", TO_POD1, "ClusterIP", "") + slice("to-pod1", endpoint(NET.pod1Ip(), "node-a", ""))
                + service("zoned", ZONED, "ClusterIP", "")
                + slice("zoned", endpoint(NET.pod1Ip(), "node-a", "{forZones: [{name: zone-a}]}")
                        + endpoint(NET.pod2Ip(), "node-b", "{forZones: [{name: zone-b}]}"))
                + service("partly-hinted", PARTLY_HINTED, "ClusterIP", "")
                + slice("partly-hinted", endpoint(NET.pod1Ip(), "node-a", "{forZones: [{name: zone-a}]}")
                        + endpoint(NET.pod2Ip(), "node-b", ""))
                + service("node-hinted", NODE_HINTED, "ClusterIP", "")
                + slice("node-hinted", endpoint(NET.pod1Ip(), "node-a",
                        "{forZones: [{name: zone-a}], forNodes: [{name: node-b}]}")
                        + endpoint(NET.pod2Ip(), "node-b", "{forZones: [{name: zone-b}], forNodes: [{name: node-a}]}"))
                + service("lb", NET.serviceIp(104), "LoadBalancer", """
                        status:
                          loadBalancer:
                            ingress:
                            - {ip: %s, ipMode: VIP}
                            - {ip: %s, ipMode: Proxy}
                        """.formatted(LB_VIP, LB_PROXY))
                + slice("lb", endpoint(NET.pod1Ip(), "node-a", ""));
    }

    private static String service(String name, String ip, String type, String status) {
        return "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: ns}\nspec:\n  type: "
                + type + "\n  clusterIP: " + ip + "\n  ports: [{name: tcp, port: " + PORT
                + (type.equals("LoadBalancer") ? ", nodePort: 30050" : "") + ", protocol: TCP}]\n" + status;
    }

    private static String slice(String service, String endpoints) {
        return "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + service
                + "-1\n  namespace: ns\n  labels: {kubernetes.io/service-name: " + service + "}\naddressType: IPv4\n"
                + "endpoints:\n" + endpoints + "ports: [{name: tcp, port: " + PORT + ", protocol: TCP}]\n";
    }

    private static String endpoint(String ip, String node, String hints) {
        return "- addresses: [" + ip + "]\n  nodeName: " + node + "\n" + (hints.isEmpty() ? "" : "  hints: " + hints + "\n");
    }

    /** Renders the manifests for node-a with {@code detector} and programs the node with {@code engine}. */
    private void program(Engine engine, String zone, LocalTrafficDetector.Mode mode, String clusterCidr,
                         String bridge, String prefix) throws Exception {
        ClusterSnapshot snapshot = ManifestLoader.parse("parity.yaml", manifests(zone));
        assertThat(snapshot.problems()).isEmpty();
        List<String> podCidrs = snapshot.node(NodeTopology.NODE_NAME).map(NodeInfo::podCidrs).orElseThrow();
        List<String> clusterCidrs = clusterCidr == null ? List.of() : List.of(clusterCidr);
        RenderConfig config = RenderConfig.builder(IpFamily.V4).nodeName(NodeTopology.NODE_NAME)
                .nodeIps(List.of(NET.nodeIp())).clusterCidrs(clusterCidrs)
                .localDetector(LocalTrafficDetector.of(mode, IpFamily.V4, clusterCidrs, podCidrs, bridge, prefix))
                .build();
        ProxyState state = snapshot.state(IpFamily.V4, NodeTopology.NODE_NAME);
        List<String> prefixCommand = topology.node().commandPrefix();
        ProxyMode proxyMode = engine == Engine.IPTABLES ? ProxyMode.IPTABLES : ProxyMode.NFTABLES;
        new ModeLeftovers(proxyMode, IptablesBackend.AUTO, prefixCommand).removeOtherModes();
        if (engine == Engine.NFTABLES) {
            NftCommand.create().withCommandPrefix(prefixCommand).apply(NftablesRenderer.script(config, state));
        } else {
            byte[] rules = new IptablesRenderer(config).render(state).toString().getBytes(StandardCharsets.UTF_8);
            IptablesRestore.of(IpFamily.V4).withCommandPrefix(prefixCommand).restore(rules);
            JumpRules.of(IpFamily.V4).withCommandPrefix(prefixCommand).ensure();
        }
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void zoneHintsKeepTrafficInTheZoneWhileTheyAllowItAndNodeHintsWin(Engine engine) throws Exception {
        program(engine, "zone-a", Mode.CLUSTER_CIDR, NET.clusterCidr(), null, null);
        assertThat(connect(client, ZONED, PORT, 16)).as("zone-a's node: zone-a's pod only").containsOnlyKeys("pod1");
        assertThat(connect(client, PARTLY_HINTED, PORT, 16))
                .as("one endpoint without hints: hints ignored, both pods").containsOnlyKeys("pod1", "pod2");
        assertThat(connect(client, NODE_HINTED, PORT, 16))
                .as("forNodes names node-a for pod2 (though pod1 is hinted for zone-a)").containsOnlyKeys("pod2");

        program(engine, "zone-c", Mode.CLUSTER_CIDR, NET.clusterCidr(), null, null);
        assertThat(connect(client, ZONED, PORT, 16)).as("no endpoint hinted for zone-c: both pods")
                .containsOnlyKeys("pod1", "pod2");
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void aProxyModeLoadBalancerIpIsNotCaptured(Engine engine) throws Exception {
        program(engine, "zone-a", Mode.CLUSTER_CIDR, NET.clusterCidr(), null, null);
        assertThat(connect(client, LB_VIP, PORT, 6)).as("VIP mode: DNATed to the service's pod")
                .containsOnlyKeys("pod1");
        Map<String, List<ServerReply>> proxied = connect(client, LB_PROXY, PORT, 6);
        assertThat(proxied).as("Proxy mode: routed to the load balancer behind the node untouched")
                .containsOnlyKeys("pod2");
        assertThat(proxied.get("pod2")).extracting(ServerReply::clientIp).containsOnly(NET.clientIp());
    }

    /** What pod1 (the only endpoint of to-pod1) sees as the client's address: the source, or the node (masquerade). */
    private String seenBy(AgentHandle from, String sourceIp) {
        ProbeResult result = sourceIp == null ? from.tcpGet(TO_POD1, PORT, PROBE_TIMEOUT)
                : from.tcpGet(TO_POD1, PORT, PROBE_TIMEOUT, sourceIp);
        assertThat(result.isOk()).as("%s -> to-pod1: %s", sourceIp, result).isTrue();
        return result.serverReply().clientIp();
    }

    private void assertMasquerade(boolean client, boolean clientFromClusterCidr, boolean pod2Source) {
        String masq = NET.pod1Gateway();
        assertThat(seenBy(this.client, null)).as("client %s", NET.clientIp())
                .isEqualTo(client ? masq : NET.clientIp());
        assertThat(seenBy(this.client, CLIENT_IN_CLUSTER_CIDR)).as("client from %s (in the cluster CIDR, on its own "
                + "link)", CLIENT_IN_CLUSTER_CIDR).isEqualTo(clientFromClusterCidr ? masq : CLIENT_IN_CLUSTER_CIDR);
        assertThat(seenBy(pod2, null)).as("pod2 %s on veth-pod2", NET.pod2Ip())
                .isEqualTo(pod2Source ? masq : NET.pod2Ip());
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void eachLocalDetectionModeMasqueradesExactlyTrafficFromOutsideThePods(Engine engine) throws Exception {
        program(engine, "zone-a", Mode.CLUSTER_CIDR, null, null, null);
        assertMasquerade(false, false, false); // no detector: no off-cluster masquerade rule at all

        program(engine, "zone-a", Mode.CLUSTER_CIDR, NET.clusterCidr(), null, null);
        assertMasquerade(true, false, false); // by address: 10.244.0.0/16

        program(engine, "zone-a", Mode.NODE_CIDR, NET.clusterCidr(), null, null);
        assertMasquerade(true, true, true); // node-a's podCIDR 10.244.1.0/24 holds neither source

        program(engine, "zone-a", Mode.BRIDGE_INTERFACE, NET.clusterCidr(), "veth-pod2", null);
        assertMasquerade(true, true, false); // by incoming interface, whatever the address

        program(engine, "zone-a", Mode.INTERFACE_NAME_PREFIX, NET.clusterCidr(), null, "veth-pod");
        assertMasquerade(true, true, false);
        assertThat(seenBy(topology.pod2(), null)).isEqualTo(NET.pod2Ip());
    }
}
