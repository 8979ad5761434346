package dev.railyard.proxy.kernel;

import static dev.railyard.proxy.kernel.NodeTopology.DROP_PROBE_TIMEOUT;
import static dev.railyard.proxy.kernel.NodeTopology.NODE_NAME;
import static dev.railyard.proxy.kernel.NodeTopology.PROBE_TIMEOUT;
import static dev.railyard.proxy.kernel.NodeTopology.V4;
import static dev.railyard.proxy.kernel.NodeTopology.V6;
import static dev.railyard.proxy.kernel.NodeTopology.addresses;
import static dev.railyard.proxy.kernel.NodeTopology.connect;
import static dev.railyard.proxy.kernel.TracePredictions.assertPredicted;
import static dev.railyard.proxy.kernel.TracePredictions.inits;
import static dev.railyard.proxy.kernel.TracePredictions.one;
import static dev.railyard.proxy.kernel.TracePredictions.replies;
import static dev.railyard.proxy.kernel.TrafficServices.DNS;
import static dev.railyard.proxy.kernel.TrafficServices.ITP_LOCAL;
import static dev.railyard.proxy.kernel.TrafficServices.LB_ALLOWED;
import static dev.railyard.proxy.kernel.TrafficServices.LOCAL_NODE_PORT;
import static dev.railyard.proxy.kernel.TrafficServices.NODE_PORT;
import static dev.railyard.proxy.kernel.TrafficServices.NO_ENDPOINTS;
import static dev.railyard.proxy.kernel.TrafficServices.NO_ENDPOINTS_NODE_PORT;
import static dev.railyard.proxy.kernel.TrafficServices.PUBLIC_EXTERNAL;
import static dev.railyard.proxy.kernel.TrafficServices.PUBLIC_LB_ALLOWED;
import static dev.railyard.proxy.kernel.TrafficServices.PUBLIC_LB_DENIED;
import static dev.railyard.proxy.kernel.TrafficServices.PUBLIC_NO_ENDPOINTS;
import static dev.railyard.proxy.kernel.TrafficServices.PUBLIC_NO_ENDPOINTS_LB;
import static dev.railyard.proxy.kernel.TrafficServices.REMOTE_ONLY_ITP_LOCAL;
import static dev.railyard.proxy.kernel.TrafficServices.REMOTE_ONLY_LOCAL_NODE_PORT;
import static dev.railyard.proxy.kernel.TrafficServices.SCTP_PORT;
import static dev.railyard.proxy.kernel.TrafficServices.SHORT_STICKY;
import static dev.railyard.proxy.kernel.TrafficServices.SHORT_STICKY_SECONDS;
import static dev.railyard.proxy.kernel.TrafficServices.SIGNALLING;
import static dev.railyard.proxy.kernel.TrafficServices.STICKY;
import static dev.railyard.proxy.kernel.TrafficServices.TERMINATING;
import static dev.railyard.proxy.kernel.TrafficServices.UNALLOCATED;
import static dev.railyard.proxy.kernel.TrafficServices.WEB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftCommand;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.RulesetDiff;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.Verdict;
import dev.railyard.proxy.inspect.nftables.LiveNftNode;
import dev.railyard.proxy.inspect.nftables.NftablesServiceRuleset;
import dev.railyard.proxy.kernel.NodeTopology.Addresses;
import dev.railyard.proxy.kernel.PacketCounters.Destination;
import dev.railyard.proxy.kernel.PacketCounters.Window;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.NftablesLayout;
import dev.railyard.proxy.render.nftables.Layout;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.SctpInit;
import dev.railyard.testkit.ServerReply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Railyard's nftables mode, applied to a real kernel, behaves as Kubernetes Services do, as kube-proxy's nftables
 * mode does: the node, pods and client of {@link ServiceTrafficTest} ({@link NodeTopology}, here dual-stack),
 * programmed only with {@link NftablesRenderer#script} for each family applied by {@link NftCommand} in the node's
 * namespace; no iptables at all. Every service of {@link TrafficServices} is dual-stack and every scenario runs
 * over both families.
 *
 * <p>Settings are kube-proxy's defaults in nftables mode: {@code --nodeport-addresses primary}, the default
 * masquerade bit, the cluster CIDRs as the local-traffic detector, and the service CIDRs known (so unallocated
 * cluster IPs are dropped). Where a test needs to know which rule dropped a packet, {@link PacketCounters}
 * count the packets on both sides of the priority of kube-proxy's chain.
 *
 * <p>Every probe is also predicted with {@code railyard trace}'s nftables evaluator, twice: through the manifests
 * (rendered in this class's layout) and through the node's own {@code nft list ruleset} (the observer table of
 * {@link PacketCounters} included) and local routing table, as {@code trace --live} reads them. Both predictions
 * must agree with each other and with what the packets did: the endpoints reached, whether the pod saw the
 * client's address or the node's (masquerade), refused (REJECT) or unanswered (DROP) connections and the chain
 * that dropped them.
 */
@RequiresPrivileges(commands = {"nft", "ip"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NftablesServiceTrafficTest {

    private static final List<Addresses> FAMILIES = List.of(V4, V6);
    /** kube-proxy's filter-prerouting-pre-dnat (source ranges) is at -110, DNAT at -100. */
    private static final Window BEFORE_DNAT = new Window("prerouting", -120, -105);
    /** kube-proxy's filter-input and filter-forward are at priority 0. */
    private static final Window INPUT = new Window("input", -10, 10);
    private static final Window FORWARD = new Window("forward", -10, 10);
    /**
     * A rejected connection is refused at its first SYN, or at the latest at the first retransmission (1 s): with
     * client and node on one host the ICMPv6 error can reach the client while its connect(2) still holds the
     * socket, and TCP then keeps it as a soft error only (TcpExtLockDroppedIcmps) until the next answer. A DROP
     * gives a timeout instead.
     */

    private NodeTopology topology;
    private NftCommand nft;
    private PacketCounters counters;
    private final Map<IpFamily, NftablesServiceRuleset> fromManifests = new EnumMap<>(IpFamily.class);
    private final Map<IpFamily, NftablesServiceRuleset> fromNode = new EnumMap<>(IpFamily.class);

    /** Which layout the node is programmed in; the flat layout's subclass says so. */
    Layout layout() {
        return Layout.KUBE_PROXY;
    }

    @BeforeAll
    void buildDualStackNodeAndApplyTheNftablesRuleset() throws Exception {
        topology = NodeTopology.create(FAMILIES);
        try {
            nft = NftCommand.create().withCommandPrefix(topology.node().commandPrefix());
            for (Addresses net : FAMILIES) {
                nft.apply(script(net.family(), b -> b));
            }
            List<Destination> watched = new ArrayList<>();
            for (Addresses net : FAMILIES) {
                watched.add(lbDenied(net));
                watched.add(remoteOnlyLocalNodePort(net));
                watched.add(unallocated(net));
                watched.add(noEndpointsNodePort(net));
                watched.add(remoteOnlyInternalLocal(net));
            }
            counters = PacketCounters.install(topology.node(), List.of(BEFORE_DNAT, INPUT, FORWARD), watched);
            for (Addresses net : FAMILIES) {
                fromManifests.put(net.family(), NftablesServiceRuleset.fromRender("manifests",
                        config(net.family(), b -> b), layout(), state(net.family())));
                fromNode.put(net.family(), LiveNftNode.of(net.family())
                        .withCommandPrefix(topology.node().commandPrefix()).read());
            }
        } catch (Throwable e) {
            topology.closeAfter(e);
            throw e;
        }
    }

    @AfterAll
    void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    @Test
    void theNodeHoldsOnlyTheNftablesRulesetAndNoIptablesRules() throws Exception {
        String tables = nft.listRuleset();
        List<String> tableLines = new ArrayList<>();
        for (String line : tables.split("\n")) {
            if (line.startsWith("table ")) {
                tableLines.add(line.substring(0, line.indexOf(" {")));
            }
        }
        // iptables-nft keeps its rules in nft tables (ip filter, ip nat ...), so this also shows there are none.
        assertThat(tableLines).containsExactlyInAnyOrder("table ip kube-proxy", "table ip6 kube-proxy",
                "table inet " + PacketCounters.TABLE);
        for (String save : List.of("iptables-legacy-save", "ip6tables-legacy-save")) {
            var result = topology.node().exec(Duration.ofSeconds(30), save);
            if (result.succeeded()) {
                assertThat(result.stdout()).as(save).doesNotContain("-A ");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void clusterIpSpreadsOverBothPodsAndMasqueradesOnlyTrafficFromOutsideTheClusterCidr(IpFamily family) {
        Addresses net = addresses(family);
        Trace fromPod1Predicted = predict(net, net.pod1Ip(), Origin.POD, net.serviceIp(WEB), 80, Protocol.TCP);
        Trace fromClientPredicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.serviceIp(WEB), 80,
                Protocol.TCP);
        Map<String, List<ServerReply>> fromPod1 = connect(topology.pod1(), net.serviceIp(WEB), 80, 30);
        Map<String, List<ServerReply>> fromClient = connect(topology.client(), net.serviceIp(WEB), 80, 30);

        assertThat(fromPod1).as("pod1 -> cluster IP, by serving pod").containsOnlyKeys("pod1", "pod2");
        assertThat(fromClient).as("client -> cluster IP, by serving pod").containsOnlyKeys("pod1", "pod2");
        // Pod traffic is not masqueraded: pod2 sees pod1 itself.
        assertThat(fromPod1.get("pod2")).extracting(ServerReply::clientIp).containsOnly(net.pod1Ip());
        // Except hairpin traffic (pod1 -> service -> pod1), masqueraded by the endpoint chain's saddr rule.
        assertThat(fromPod1.get("pod1")).extracting(ServerReply::clientIp).containsOnly(net.pod1Gateway());
        // The client is outside the cluster CIDR: each pod sees the node's address on its link.
        assertThat(fromClient.get("pod1")).extracting(ServerReply::clientIp).containsOnly(net.pod1Gateway());
        assertThat(fromClient.get("pod2")).extracting(ServerReply::clientIp).containsOnly(net.pod2Gateway());
        assertPredicted(net, fromPod1Predicted, replies(fromPod1), net.pod1Ip(), true, NodeTopology.POD_TCP_PORT);
        assertPredicted(net, fromClientPredicted, replies(fromClient), net.clientIp(), true,
                NodeTopology.POD_TCP_PORT);
        assertThat(fromPod1Predicted.endpoints()).extracting(EndpointShare::probability).containsOnly(0.5);
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void theNodeItselfReachesAClusterIp(IpFamily family) {
        Addresses net = addresses(family);
        Trace predicted = predict(net, net.nodeIp(), Origin.NODE, net.serviceIp(WEB), 80, Protocol.TCP);
        Map<String, List<ServerReply>> byPod = connect(topology.nodeAgent(), net.serviceIp(WEB), 80, 10);

        assertThat(byPod.keySet()).as("node -> cluster IP (nat output), by serving pod").isNotEmpty()
                .isSubsetOf("pod1", "pod2");
        assertThat(byPod.values().stream().flatMap(List::stream)).extracting(ServerReply::clientIp)
                .as("the node's own traffic is masqueraded").isSubsetOf(net.pod1Gateway(), net.pod2Gateway());
        assertPredicted(net, predicted, replies(byPod), net.nodeIp(), false, NodeTopology.POD_TCP_PORT);
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void nodePortOnThePrimaryNodeAddressReachesAPod(IpFamily family) {
        Addresses net = addresses(family);
        Trace clientPredicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.nodeIp(), NODE_PORT, Protocol.TCP);
        Trace nodePredicted = predict(net, net.nodeIp(), Origin.NODE, net.nodeIp(), NODE_PORT, Protocol.TCP);
        ServerReply fromClient = topology.client().tcpGet(net.nodeIp(), NODE_PORT, PROBE_TIMEOUT).serverReply();
        ServerReply fromNode = topology.nodeAgent().tcpGet(net.nodeIp(), NODE_PORT, PROBE_TIMEOUT).serverReply();

        assertThat(fromClient.serverName()).isIn("pod1", "pod2");
        // externalTrafficPolicy Cluster: the source is masqueraded to the node.
        assertThat(fromClient.clientIp()).isIn(net.pod1Gateway(), net.pod2Gateway());
        assertThat(fromNode.serverName()).isIn("pod1", "pod2");
        assertPredicted(net, clientPredicted, one(fromClient), net.clientIp(), false, NodeTopology.POD_TCP_PORT);
        assertPredicted(net, nodePredicted, one(fromNode), net.nodeIp(), false, NodeTopology.POD_TCP_PORT);
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void nodePortsAnswerOnlyOnThePrimaryNodeAddressAndNeverOnLocalhost(IpFamily family) {
        Addresses net = addresses(family);
        // The node's address on pod1's link is local too, but not the primary: nothing there listens.
        Trace otherAddressPredicted = predict(net, net.pod1Ip(), Origin.POD, net.pod1Gateway(), NODE_PORT,
                Protocol.TCP);
        Trace localhostPredicted = predict(net, net.localhost(), Origin.NODE, net.localhost(), NODE_PORT,
                Protocol.TCP);
        ProbeResult otherAddress = topology.pod1().tcpGet(net.pod1Gateway(), NODE_PORT, PROBE_TIMEOUT);
        ProbeResult localhost = topology.nodeAgent().tcpGet(net.localhost(), NODE_PORT, PROBE_TIMEOUT);

        assertThat(otherAddress.outcome()).as("pod1 -> %s:%d: %s", net.pod1Gateway(), NODE_PORT, otherAddress)
                .isEqualTo(ProbeResult.Outcome.REFUSED);
        assertThat(localhost.outcome()).as("node -> %s:%d: %s", net.localhost(), NODE_PORT, localhost)
                .isEqualTo(ProbeResult.Outcome.REFUSED);
        // Not DNATed: delivered to the node, where nothing listens.
        assertThat(otherAddressPredicted.verdicts()).containsOnlyKeys(Verdict.ACCEPT);
        assertThat(otherAddressPredicted.outcomes().get(0).decidedBy()).isEqualTo("delivered to a local socket");
        assertThat(localhostPredicted.verdicts()).containsOnlyKeys(Verdict.ACCEPT);
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void externalIpReachesAPod(IpFamily family) {
        Addresses net = addresses(family);
        Trace predicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.publicIp(PUBLIC_EXTERNAL), 80,
                Protocol.TCP);
        ServerReply reply = topology.client().tcpGet(net.publicIp(PUBLIC_EXTERNAL), 80, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isIn("pod1", "pod2");
        assertThat(reply.clientIp()).isIn(net.pod1Gateway(), net.pod2Gateway());
        assertPredicted(net, predicted, one(reply), net.clientIp(), false, NodeTopology.POD_TCP_PORT);
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void loadBalancerIpHonoursLoadBalancerSourceRanges(IpFamily family) {
        Addresses net = addresses(family);
        Trace allowedPredicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.publicIp(PUBLIC_LB_ALLOWED), 80,
                Protocol.TCP);
        Trace deniedPredicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.publicIp(PUBLIC_LB_DENIED), 80,
                Protocol.TCP);
        ServerReply allowed = topology.client().tcpGet(net.publicIp(PUBLIC_LB_ALLOWED), 80, PROBE_TIMEOUT)
                .serverReply();
        assertThat(allowed.serverName()).isIn("pod1", "pod2");
        assertPredicted(net, allowedPredicted, one(allowed), net.clientIp(), false, NodeTopology.POD_TCP_PORT);
        assertDroppedBy(deniedPredicted, "filter-prerouting-pre-dnat", "firewall-");

        // Dropped before DNAT, by filter-prerouting-pre-dnat -> firewall-check -> the service's firewall chain.
        counters.assertDroppedWithin(BEFORE_DNAT, lbDenied(net), () -> {
            ProbeResult denied = topology.client().tcpGet(net.publicIp(PUBLIC_LB_DENIED), 80, DROP_PROBE_TIMEOUT);
            assertThat(denied.outcome()).as("client outside loadBalancerSourceRanges: %s", denied)
                    .isEqualTo(ProbeResult.Outcome.TIMEOUT);
        });
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void clientIpAffinityKeepsEveryConnectionOnOnePodForItsTimeout(IpFamily family) throws Exception {
        Addresses net = addresses(family);
        Trace predicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.serviceIp(STICKY), 80, Protocol.TCP);
        Map<String, List<ServerReply>> byPod = connect(topology.client(), net.serviceIp(STICKY), 80, 15);

        assertThat(byPod).as("15 connections with sessionAffinity ClientIP, by serving pod").hasSize(1);
        // A new client is balanced over both; the affinity check that keeps it on its first pod is reported.
        assertPredicted(net, predicted, replies(byPod), net.clientIp(), false, NodeTopology.POD_TCP_PORT);
        assertThat(predicted.endpoints()).hasSize(2);
        assertThat(predicted.affinity()).extracting(a -> a.seconds()).containsOnly(60L);
        assertThat(predicted.affinity()).extracting(a -> a.endpoint()).containsExactlyInAnyOrder(
                Packet.hostPort(net.pod1Ip(), NodeTopology.POD_TCP_PORT),
                Packet.hostPort(net.pod2Ip(), NodeTopology.POD_TCP_PORT));
        // The client is remembered (before masquerading) in the affinity set of the endpoint it went to, with
        // the service's timeout.
        List<AffinityEntry> entries = affinityEntries(family, "ns/sticky/");
        assertThat(entries).as("affinity entries of ns/sticky").hasSize(1);
        assertThat(entries.get(0).chain()).contains(byPod.containsKey("pod1") ? net.pod1Ip().replace(':', '.')
                : net.pod2Ip().replace(':', '.'));
        assertThat(entries.get(0).client()).isEqualTo(net.clientIp());
        assertThat(entries.get(0).setTimeout()).isEqualTo("1m");
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void clientIpAffinityIsForgottenAfterItsTimeout(IpFamily family) throws Exception {
        Addresses net = addresses(family);
        connect(topology.client(), net.serviceIp(SHORT_STICKY), 80, 1);
        assertThat(affinityEntries(family, "ns/short-sticky/")).extracting(AffinityEntry::client)
                .containsExactly(net.clientIp());

        long deadline = System.nanoTime() + Duration.ofSeconds(SHORT_STICKY_SECONDS + 3).toNanos();
        List<AffinityEntry> entries = affinityEntries(family, "ns/short-sticky/");
        while (!entries.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
            entries = affinityEntries(family, "ns/short-sticky/");
        }
        assertThat(entries).as("affinity entries %ds after the last connection", SHORT_STICKY_SECONDS + 3).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void externalTrafficPolicyLocalUsesOnlyLocalEndpointsAndPreservesTheSource(IpFamily family) {
        Addresses net = addresses(family);
        Trace predicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.nodeIp(), LOCAL_NODE_PORT, Protocol.TCP);
        List<ServerReply> replies = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            replies.add(topology.client().tcpGet(net.nodeIp(), LOCAL_NODE_PORT, PROBE_TIMEOUT).serverReply());
        }

        assertThat(replies).extracting(ServerReply::serverName).as("serving pod").containsOnly("pod1");
        assertThat(replies).extracting(ServerReply::clientIp).as("source seen by pod1").containsOnly(net.clientIp());
        assertPredicted(net, predicted, Map.of("pod1", replies.stream().map(ServerReply::clientIp).toList()),
                net.clientIp(), true, NodeTopology.POD_TCP_PORT);
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void externalTrafficPolicyLocalWithoutLocalEndpointsDropsOutsideTrafficButServesPodsAndTheNode(IpFamily family) {
        Addresses net = addresses(family);
        Trace clientPredicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.nodeIp(),
                REMOTE_ONLY_LOCAL_NODE_PORT, Protocol.TCP);
        Trace podPredicted = predict(net, net.pod1Ip(), Origin.POD, net.nodeIp(), REMOTE_ONLY_LOCAL_NODE_PORT,
                Protocol.TCP);
        Trace nodePredicted = predict(net, net.nodeIp(), Origin.NODE, net.nodeIp(), REMOTE_ONLY_LOCAL_NODE_PORT,
                Protocol.TCP);
        assertDroppedBy(clientPredicted, "filter-input", "nodeport-endpoints-check");
        // No DNAT: the packet goes up to the node, where filter-input -> nodeport-endpoints-check drops it.
        counters.assertDroppedWithin(INPUT, remoteOnlyLocalNodePort(net), () -> {
            ProbeResult dropped = topology.client().tcpGet(net.nodeIp(), REMOTE_ONLY_LOCAL_NODE_PORT,
                    DROP_PROBE_TIMEOUT);
            assertThat(dropped.outcome()).as("client -> eTP=Local NodePort without local endpoints: %s", dropped)
                    .isEqualTo(ProbeResult.Outcome.TIMEOUT);
        });

        // Pods and the node itself short-circuit to the cluster-wide endpoints (kube-proxy's external chain).
        ServerReply fromPod = topology.pod1().tcpGet(net.nodeIp(), REMOTE_ONLY_LOCAL_NODE_PORT, PROBE_TIMEOUT)
                .serverReply();
        assertThat(fromPod.serverName()).isEqualTo("pod2");
        assertThat(fromPod.clientIp()).as("pod traffic is not masqueraded").isEqualTo(net.pod1Ip());
        ServerReply fromNode = topology.nodeAgent().tcpGet(net.nodeIp(), REMOTE_ONLY_LOCAL_NODE_PORT,
                PROBE_TIMEOUT).serverReply();
        assertThat(fromNode.serverName()).isEqualTo("pod2");
        assertThat(fromNode.clientIp()).as("the node's own traffic is masqueraded").isEqualTo(net.pod2Gateway());
        assertPredicted(net, podPredicted, one(fromPod), net.pod1Ip(), true, NodeTopology.POD_TCP_PORT);
        assertPredicted(net, nodePredicted, one(fromNode), net.nodeIp(), true, NodeTopology.POD_TCP_PORT);
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void serviceWithoutReadyEndpointsRejectsConnectionsAtOnce(IpFamily family) {
        Addresses net = addresses(family);
        for (String destination : List.of(net.serviceIp(NO_ENDPOINTS), net.publicIp(PUBLIC_NO_ENDPOINTS),
                net.publicIp(PUBLIC_NO_ENDPOINTS_LB))) {
            assertThat(predict(net, net.clientIp(), Origin.EXTERNAL, destination, 80, Protocol.TCP).verdicts())
                    .as("predicted for %s", destination).containsOnlyKeys(Verdict.REJECT);
        }
        assertThat(predict(net, net.clientIp(), Origin.EXTERNAL, net.nodeIp(), NO_ENDPOINTS_NODE_PORT, Protocol.TCP)
                .verdicts()).as("predicted for the node port").containsOnlyKeys(Verdict.REJECT);
        // Not local to the node: without the reject they would be routed on and time out.
        assertRefusedAtOnce(topology.client(), net.serviceIp(NO_ENDPOINTS), 80);
        assertRefusedAtOnce(topology.client(), net.publicIp(PUBLIC_NO_ENDPOINTS), 80);
        assertRefusedAtOnce(topology.client(), net.publicIp(PUBLIC_NO_ENDPOINTS_LB), 80);
        // The node's own address would answer with a reset anyway; the counters show filter-input stopped it.
        counters.assertDroppedWithin(INPUT, noEndpointsNodePort(net),
                () -> assertRefusedAtOnce(topology.client(), net.nodeIp(), NO_ENDPOINTS_NODE_PORT));
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void aClusterIpPortThatDoesNotExistIsRejected(IpFamily family) {
        Addresses net = addresses(family);
        assertThat(predict(net, net.clientIp(), Origin.EXTERNAL, net.serviceIp(WEB), 81, Protocol.TCP).verdicts())
                .containsOnlyKeys(Verdict.REJECT);
        assertThat(predict(net, net.pod1Ip(), Origin.POD, net.serviceIp(WEB), 81, Protocol.TCP).verdicts())
                .containsOnlyKeys(Verdict.REJECT);
        assertRefusedAtOnce(topology.client(), net.serviceIp(WEB), 81);
        assertRefusedAtOnce(topology.pod1(), net.serviceIp(WEB), 81);
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void anUnallocatedClusterIpIsDropped(IpFamily family) {
        Addresses net = addresses(family);
        assertDroppedBy(predict(net, net.clientIp(), Origin.EXTERNAL, net.serviceIp(UNALLOCATED), 80, Protocol.TCP),
                "filter-forward", "cluster-ips-check");
        // Routed towards the uplink, and dropped by filter-forward -> cluster-ips-check on the way.
        counters.assertDroppedWithin(FORWARD, unallocated(net), () -> {
            ProbeResult result = topology.client().tcpGet(net.serviceIp(UNALLOCATED), 80, DROP_PROBE_TIMEOUT);
            assertThat(result.outcome()).as("client -> unallocated cluster IP: %s", result)
                    .isEqualTo(ProbeResult.Outcome.TIMEOUT);
        });
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void udpClusterIpReachesAPod(IpFamily family) {
        Addresses net = addresses(family);
        Trace predicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.serviceIp(DNS), 53, Protocol.UDP);
        ServerReply reply = topology.client().udpGet(net.serviceIp(DNS), 53, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isIn("pod1", "pod2");
        assertThat(reply.clientIp()).isIn(net.pod1Gateway(), net.pod2Gateway());
        assertPredicted(net, predicted, one(reply), net.clientIp(), false, NodeTopology.POD_UDP_PORT);
    }

    /**
     * The kernel here has no SCTP sockets (CONFIG_IP_SCTP unset) but tracks and NATs SCTP, which is all the rules
     * need; the pods record the INITs that reach them through raw sockets.
     */
    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void sctpClusterIpSpreadsOverBothPodsWithTheSameMasqueradingAsTcp(IpFamily family) throws Exception {
        Addresses net = addresses(family);
        Trace clientPredicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.serviceIp(SIGNALLING), SCTP_PORT,
                Protocol.SCTP);
        Trace podPredicted = predict(net, net.pod1Ip(), Origin.POD, net.serviceIp(SIGNALLING), SCTP_PORT,
                Protocol.SCTP);
        Map<String, List<SctpInit>> fromClient = topology.sendSctpInits(topology.client(), net.serviceIp(SIGNALLING),
                SCTP_PORT, 20);
        Map<String, List<SctpInit>> fromPod1 = topology.sendSctpInits(topology.pod1(), net.serviceIp(SIGNALLING),
                SCTP_PORT, 20);

        assertThat(fromClient).as("client -> SCTP cluster IP, by pod").containsOnlyKeys("pod1", "pod2");
        assertThat(fromPod1).as("pod1 -> SCTP cluster IP, by pod").containsOnlyKeys("pod1", "pod2");
        assertThat(fromClient.values().stream().flatMap(List::stream)).extracting(SctpInit::destinationPort)
                .containsOnly(NodeTopology.POD_SCTP_PORT);
        assertThat(fromClient.get("pod1")).extracting(SctpInit::sourceIp).containsOnly(net.pod1Gateway());
        assertThat(fromClient.get("pod2")).extracting(SctpInit::sourceIp).containsOnly(net.pod2Gateway());
        assertThat(fromPod1.get("pod2")).extracting(SctpInit::sourceIp).containsOnly(net.pod1Ip());
        assertThat(fromPod1.get("pod1")).extracting(SctpInit::sourceIp).as("hairpin").containsOnly(net.pod1Gateway());
        assertPredicted(net, clientPredicted, inits(fromClient), net.clientIp(), true, NodeTopology.POD_SCTP_PORT);
        assertPredicted(net, podPredicted, inits(fromPod1), net.pod1Ip(), true, NodeTopology.POD_SCTP_PORT);
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void internalTrafficPolicyLocalKeepsPodTrafficOnTheNode(IpFamily family) {
        Addresses net = addresses(family);
        Trace predicted = predict(net, net.pod1Ip(), Origin.POD, net.serviceIp(ITP_LOCAL), 80, Protocol.TCP);
        Map<String, List<ServerReply>> byPod = connect(topology.pod1(), net.serviceIp(ITP_LOCAL), 80, 15);

        assertThat(byPod).as("pod1 -> internalTrafficPolicy Local service, by serving pod").containsOnlyKeys("pod1");
        assertPredicted(net, predicted, replies(byPod), net.pod1Ip(), true, NodeTopology.POD_TCP_PORT);
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void internalTrafficPolicyLocalWithoutLocalEndpointsDropsPodTraffic(IpFamily family) {
        Addresses net = addresses(family);
        assertDroppedBy(predict(net, net.pod1Ip(), Origin.POD, net.serviceIp(REMOTE_ONLY_ITP_LOCAL), 80,
                Protocol.TCP), "filter-forward", "service-endpoints-check");
        // No DNAT: routed towards the uplink, and dropped by filter-forward -> service-endpoints-check.
        counters.assertDroppedWithin(FORWARD, remoteOnlyInternalLocal(net), () -> {
            ProbeResult result = topology.pod1().tcpGet(net.serviceIp(REMOTE_ONLY_ITP_LOCAL), 80, DROP_PROBE_TIMEOUT);
            assertThat(result.outcome()).as("pod1 -> iTP=Local service without local endpoints: %s", result)
                    .isEqualTo(ProbeResult.Outcome.TIMEOUT);
        });
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void servingTerminatingEndpointIsUsedWhenNoneIsReady(IpFamily family) {
        Addresses net = addresses(family);
        Trace predicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.serviceIp(TERMINATING), 80,
                Protocol.TCP);
        ServerReply reply = topology.client().tcpGet(net.serviceIp(TERMINATING), 80, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isEqualTo("pod2");
        assertPredicted(net, predicted, one(reply), net.clientIp(), true, NodeTopology.POD_TCP_PORT);
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void theNodesOwnNftListingDiffsEqualToTheRenderOfItsManifests(IpFamily family) {
        Addresses net = addresses(family);
        // The same render, knowing every address the node has (its pod-side gateways too), as the live side does.
        NftablesServiceRuleset rendered = fromManifests.get(family).withLocalAddresses("manifests",
                fromNode.get(family).localAddresses());

        RulesetDiff.Report report = RulesetDiff.compare(rendered, fromNode.get(family),
                new RulesetDiff.Settings(family, net.clusterCidr()));

        assertThat(report.differing()).as("differences between the render and the node's nft list ruleset").isEmpty();
        assertThat(report.frontends()).as("frontends").hasSizeGreaterThanOrEqualTo(18);
        assertThat(report.notes()).as("notes").noneMatch(n -> n.contains("cannot be evaluated"));
        // The node's listing holds the observer table too; its counters run on the way and change nothing.
        assertThat(fromNode.get(family).ruleset().tables()).extracting(t -> t.label())
                .containsExactlyInAnyOrder("ip kube-proxy", "ip6 kube-proxy", "inet " + PacketCounters.TABLE);
    }

    @Test
    void aDualStackServiceIsServedOverBothFamiliesByTheSamePods() throws Exception {
        for (Addresses net : FAMILIES) {
            Trace predicted = predict(net, net.clientIp(), Origin.EXTERNAL, net.serviceIp(LB_ALLOWED), 80,
                    Protocol.TCP);
            Map<String, List<ServerReply>> byPod = connect(topology.client(), net.serviceIp(LB_ALLOWED), 80, 20);
            assertThat(byPod).as("client -> %s, by serving pod", net.serviceIp(LB_ALLOWED))
                    .containsOnlyKeys("pod1", "pod2");
            assertPredicted(net, predicted, replies(byPod), net.clientIp(), true, NodeTopology.POD_TCP_PORT);
        }
        // Each family has its own table, DNATing to its own endpoints; IPv6 endpoints written [address]:port.
        String ip6 = nft.listTable(Family.IP6, NftablesLayout.TABLE);
        assertThat(ip6).contains("dnat to [" + V6.pod1Ip() + "]:8080").doesNotContain(V4.pod1Ip());
        String ip = nft.listTable(Family.IP, NftablesLayout.TABLE);
        assertThat(ip).contains("dnat to " + V4.pod1Ip() + ":8080").doesNotContain(V6.pod1Ip());
    }

    @ParameterizedTest
    @EnumSource(IpFamily.class)
    void masqueradeAllWithAnotherMasqueradeBitMasqueradesPodTrafficToo(IpFamily family) throws Exception {
        Addresses net = addresses(family);
        try {
            nft.apply(script(family, b -> b.masqueradeAll(true).masqueradeBit(5).clusterCidrs(List.of())));
            assertThat(nft.listTable(family == IpFamily.V4 ? Family.IP : Family.IP6, NftablesLayout.TABLE))
                    .contains("meta mark set meta mark | 0x00000020");

            Map<String, List<ServerReply>> fromPod1 = connect(topology.pod1(), net.serviceIp(WEB), 80, 20);
            assertThat(fromPod1).containsOnlyKeys("pod1", "pod2");
            assertThat(fromPod1.get("pod2")).extracting(ServerReply::clientIp).containsOnly(net.pod2Gateway());
        } finally {
            nft.apply(script(family, b -> b));
        }
        Map<String, List<ServerReply>> afterwards = connect(topology.pod1(), net.serviceIp(WEB), 80, 20);
        assertThat(afterwards.getOrDefault("pod2", List.of())).extracting(ServerReply::clientIp)
                .as("pod traffic with the default settings again").containsOnly(net.pod1Ip());
    }

    // ---------------------------------------------------------------------------------------------------------

    /** Rejected, not dropped: a drop would end in the probe's timeout, a reject refuses the connection. */
    private static void assertRefusedAtOnce(AgentHandle from, String ip, int port) {
        ProbeResult result = from.tcpGet(ip, port, PROBE_TIMEOUT);
        assertThat(result.outcome()).as("%s -> %s:%d: %s", from.namespace().name(), ip, port, result)
                .isEqualTo(ProbeResult.Outcome.REFUSED);
    }

    private static Destination lbDenied(Addresses net) {
        return new Destination(net.publicIp(PUBLIC_LB_DENIED), 80);
    }

    private static Destination remoteOnlyLocalNodePort(Addresses net) {
        return new Destination(net.nodeIp(), REMOTE_ONLY_LOCAL_NODE_PORT);
    }

    private static Destination noEndpointsNodePort(Addresses net) {
        return new Destination(net.nodeIp(), NO_ENDPOINTS_NODE_PORT);
    }

    private static Destination remoteOnlyInternalLocal(Addresses net) {
        return new Destination(net.serviceIp(REMOTE_ONLY_ITP_LOCAL), 80);
    }

    private static Destination unallocated(Addresses net) {
        return new Destination(net.serviceIp(UNALLOCATED), 80);
    }

    /**
     * One client address remembered in an affinity set, with the endpoint chain that fills it and the entry's
     * timeout: the set's default (kube-proxy's layout, a set per endpoint) or the entry's own (the flat layout's
     * one set, keyed by client and endpoint key, with the timeout given by the update).
     */
    record AffinityEntry(String set, String chain, String client, String setTimeout) {
    }

    private static final Pattern SET = Pattern.compile("\\tset (\\S+) \\{\\n(.*?)\\n\\t}", Pattern.DOTALL);
    private static final Pattern SET_TIMEOUT = Pattern.compile("^\\t\\ttimeout (\\S+)$", Pattern.MULTILINE);
    private static final Pattern ELEMENTS = Pattern.compile("elements = \\{([^}]*)}");
    private static final Pattern CHAIN = Pattern.compile("^\\tchain (\\S+) \\{$");
    private static final Pattern AFFINITY_UPDATE = Pattern.compile(
            "update @(\\S+) \\{ ip6? saddr(?: \\. numgen random mod 1 offset (\\d+))?(?: timeout \\S+)? }");

    /**
     * The entries of the affinity sets that the endpoint chains of {@code servicePrefix} ("ns/sticky/") fill: a
     * set, or an endpoint's key in the flat layout's shared set, is found through the chain that updates it.
     */
    private List<AffinityEntry> affinityEntries(IpFamily family, String servicePrefix) throws Exception {
        String listing = nft.listTable(family == IpFamily.V4 ? Family.IP : Family.IP6, NftablesLayout.TABLE);
        Map<String, String> chainOfKey = new HashMap<>(); // "set" or "set key" -> chain
        String chain = "";
        for (String line : listing.split("\n")) {
            Matcher chainLine = CHAIN.matcher(line);
            if (chainLine.matches()) {
                chain = chainLine.group(1);
            }
            Matcher update = AFFINITY_UPDATE.matcher(line);
            if (update.find() && chain.contains(servicePrefix)) {
                chainOfKey.put(update.group(2) == null ? update.group(1) : update.group(1) + " " + update.group(2),
                        chain);
            }
        }
        assertThat(chainOfKey).as("affinity updates in the chains of %s", servicePrefix).isNotEmpty();
        List<AffinityEntry> entries = new ArrayList<>();
        Matcher set = SET.matcher(listing);
        while (set.find()) {
            Matcher elements = ELEMENTS.matcher(set.group(2));
            if (!elements.find()) {
                continue;
            }
            Matcher defaultTimeout = SET_TIMEOUT.matcher(set.group(2));
            String setTimeout = defaultTimeout.find() ? defaultTimeout.group(1) : null;
            for (String element : elements.group(1).split(",")) {
                List<String> words = List.of(element.strip().split("\\s+"));
                boolean keyed = words.size() > 2 && words.get(1).equals(".");
                String endpointChain = chainOfKey.get(keyed ? set.group(1) + " " + words.get(2) : set.group(1));
                if (endpointChain == null) {
                    continue;
                }
                int timeout = words.indexOf("timeout");
                entries.add(new AffinityEntry(set.group(1), endpointChain, words.get(0),
                        timeout >= 0 ? words.get(timeout + 1) : setTimeout));
            }
        }
        return entries;
    }

    private Transaction script(IpFamily family, UnaryOperator<RenderConfig.Builder> settings)
            throws Exception {
        return NftablesRenderer.script(config(family, settings), layout(), state(family));
    }

    private static ProxyState state(IpFamily family) throws Exception {
        ClusterSnapshot snapshot = ManifestLoader.parse("nftables-service-traffic.yaml",
                TrafficServices.manifests(FAMILIES));
        assertThat(snapshot.problems()).isEmpty();
        return snapshot.state(family, NODE_NAME);
    }

    private static RenderConfig config(IpFamily family, UnaryOperator<RenderConfig.Builder> settings) {
        return settings.apply(RenderConfig.builder(family)
                .nodeName(NODE_NAME)
                .nodeIps(List.of(V4.nodeIp(), V6.nodeIp()))
                .clusterCidrs(List.of(V4.clusterCidr(), V6.clusterCidr()))
                .serviceCidrs(List.of(V4.serviceCidr(), V6.serviceCidr()))
                .nodePortAddresses(List.of("primary"))).build();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Predictions

    /**
     * What {@code railyard trace} predicts for the first packet of a connection: the same from the manifests and
     * from the node's own nft list ruleset, which is what is returned.
     */
    private Trace predict(Addresses net, String source, Origin origin, String destination, int port,
                          Protocol protocol) {
        return TracePredictions.predict(fromManifests.get(net.family()), fromNode.get(net.family()),
                Packet.of(source, destination, port, protocol, origin));
    }

    /** Every way the packet ends is a drop by kube-proxy's {@code chain} in base chain {@code base}. */
    private static void assertDroppedBy(Trace predicted, String base, String chain) {
        assertThat(predicted.verdicts()).as("predicted verdict").containsOnlyKeys(Verdict.DROP);
        assertThat(predicted.outcomes()).allSatisfy(o -> assertThat(o.decidedBy()).matches(
                "ip6? kube-proxy " + java.util.regex.Pattern.quote(chain) + ".*"));
        assertThat(predicted.path()).as("the base chain on the way").anySatisfy(s ->
                assertThat(s.chain()).isEqualTo(base));
    }
}
