package dev.railyard.proxy.kernel;

import static dev.railyard.proxy.kernel.NodeTopology.DROP_PROBE_TIMEOUT;
import static dev.railyard.proxy.kernel.NodeTopology.PROBE_TIMEOUT;
import static dev.railyard.proxy.kernel.NodeTopology.connect;
import static dev.railyard.proxy.kernel.TracePredictions.assertPredicted;
import static dev.railyard.proxy.kernel.TracePredictions.clientsOf;
import static dev.railyard.proxy.kernel.TracePredictions.inits;
import static dev.railyard.proxy.kernel.TracePredictions.one;
import static dev.railyard.proxy.kernel.TracePredictions.replies;
import static dev.railyard.proxy.kernel.TrafficServices.DNS;
import static dev.railyard.proxy.kernel.TrafficServices.ITP_LOCAL;
import static dev.railyard.proxy.kernel.TrafficServices.LOCAL_NODE_PORT;
import static dev.railyard.proxy.kernel.TrafficServices.NODE_PORT;
import static dev.railyard.proxy.kernel.TrafficServices.NO_ENDPOINTS;
import static dev.railyard.proxy.kernel.TrafficServices.PUBLIC_EXTERNAL;
import static dev.railyard.proxy.kernel.TrafficServices.PUBLIC_LB_ALLOWED;
import static dev.railyard.proxy.kernel.TrafficServices.PUBLIC_LB_DENIED;
import static dev.railyard.proxy.kernel.TrafficServices.SCTP_PORT;
import static dev.railyard.proxy.kernel.TrafficServices.SIGNALLING;
import static dev.railyard.proxy.kernel.TrafficServices.STICKY;
import static dev.railyard.proxy.kernel.TrafficServices.TERMINATING;
import static dev.railyard.proxy.kernel.TrafficServices.WEB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.apply.IptablesBackend;
import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.IptablesSave;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.inspect.EndpointShare;
import dev.railyard.proxy.inspect.Origin;
import dev.railyard.proxy.inspect.Packet;
import dev.railyard.proxy.inspect.RulesetDiff;
import dev.railyard.proxy.inspect.Trace;
import dev.railyard.proxy.inspect.Verdict;
import dev.railyard.proxy.inspect.iptables.IptablesServiceRuleset;
import dev.railyard.proxy.inspect.iptables.LiveNode;
import dev.railyard.proxy.kernel.NodeTopology.Addresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.source.ClusterSnapshot;
import dev.railyard.proxy.source.ManifestLoader;
import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.SctpInit;
import dev.railyard.testkit.ServerReply;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rules Railyard renders, applied to a real kernel, behave as Kubernetes Services do.
 *
 * <p>Topology: {@link NodeTopology} (IPv4), built once for the class. The services of {@link TrafficServices}
 * are rendered and applied with {@link IptablesRestore} and {@link JumpRules}, as the proxy does.
 *
 * <p>Every probe is also predicted with {@code railyard trace}'s evaluator, twice: through the manifests (rendered,
 * plus the jump rules the proxy installs) and through the namespace's own {@code iptables-save} and local routing
 * table, as {@code trace --live} reads them. Both predictions must agree with each other and with what the
 * packets did: the endpoints reached, whether the pod saw the client's address or the node's (masquerade), and
 * refused (REJECT) or unanswered (DROP) connections.
 */
@RequiresPrivileges(commands = {"iptables-restore", "ip6tables-restore", "ip"})
class ServiceTrafficTest {

    private static final Addresses NET = NodeTopology.V4;
    private static final String WEB_IP = NET.serviceIp(WEB);
    private static final String EXTERNAL_IP = NET.publicIp(PUBLIC_EXTERNAL);
    private static final String LB_ALLOWED_IP = NET.publicIp(PUBLIC_LB_ALLOWED);
    private static final String LB_DENIED_IP = NET.publicIp(PUBLIC_LB_DENIED);

    private static NodeTopology topology;
    private static NetworkNamespace node;
    private static AgentHandle client;
    private static AgentHandle pod1;
    private static String renderedRules;
    private static IptablesServiceRuleset fromManifests;
    private static IptablesServiceRuleset fromNode;

    @BeforeAll
    static void buildNodeWithPodsAndApplyRules() throws Exception {
        topology = NodeTopology.create(List.of(NET));
        try {
            node = topology.node();
            client = topology.client();
            pod1 = topology.pod1();
            renderedRules = render(TrafficServices.manifests(List.of(NET)));
            byte[] rules = renderedRules.getBytes(StandardCharsets.UTF_8);
            IptablesRestore restore = IptablesRestore.of(IpFamily.V4).withCommandPrefix(node.commandPrefix());
            restore.test(rules);
            restore.restore(rules);
            JumpRules.of(IpFamily.V4).withCommandPrefix(node.commandPrefix()).ensure();
            fromManifests = IptablesServiceRuleset.fromRender("manifests", renderConfig(),
                    ManifestLoader.parse("service-traffic.yaml", TrafficServices.manifests(List.of(NET)))
                            .state(IpFamily.V4, NodeTopology.NODE_NAME));
            fromNode = LiveNode.of(IpFamily.V4, IptablesBackend.AUTO).withCommandPrefix(node.commandPrefix()).read();
        } catch (Throwable e) {
            topology.closeAfter(e);
            throw e;
        }
    }

    @AfterAll
    static void tearDown() {
        if (topology != null) {
            topology.close();
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    @Test
    void clusterIpSpreadsOverBothPodsAndMasqueradesOnlyTrafficFromOutsideTheClusterCidr() {
        Trace fromPod1Predicted = predict(NET.pod1Ip(), Origin.POD, WEB_IP, 80, Protocol.TCP);
        Trace fromClientPredicted = predict(NET.clientIp(), Origin.EXTERNAL, WEB_IP, 80, Protocol.TCP);
        Map<String, List<ServerReply>> fromPod1 = connect(pod1, WEB_IP, 80, 30);
        Map<String, List<ServerReply>> fromClient = connect(client, WEB_IP, 80, 30);

        assertThat(fromPod1).as("pod1 -> cluster IP, by serving pod").containsOnlyKeys("pod1", "pod2");
        assertThat(fromClient).as("client -> cluster IP, by serving pod").containsOnlyKeys("pod1", "pod2");

        // Pod traffic is not masqueraded: pod2 sees pod1 itself.
        assertThat(fromPod1.get("pod2")).extracting(ServerReply::clientIp).containsOnly(NET.pod1Ip());
        // Except hairpin traffic (pod1 -> service -> pod1), which must be masqueraded or the reply would go
        // straight back inside pod1 and never be un-DNATed.
        assertThat(fromPod1.get("pod1")).extracting(ServerReply::clientIp).containsOnly(NET.pod1Gateway());
        // The client (192.0.2.2) is outside --cluster-cidr: each pod sees the node's address on its link.
        assertThat(fromClient.get("pod1")).extracting(ServerReply::clientIp).containsOnly(NET.pod1Gateway());
        assertThat(fromClient.get("pod2")).extracting(ServerReply::clientIp).containsOnly(NET.pod2Gateway());

        assertPredicted(NET, fromPod1Predicted, replies(fromPod1), NET.pod1Ip(), true, NodeTopology.POD_TCP_PORT);
        assertPredicted(NET, fromClientPredicted, replies(fromClient), NET.clientIp(), true, NodeTopology.POD_TCP_PORT);
        assertThat(fromPod1Predicted.endpoints()).extracting(EndpointShare::probability).containsOnly(0.5);
    }

    @Test
    void nodePortOnTheNodeAddressReachesAPod() {
        Trace predicted = predict(NET.clientIp(), Origin.EXTERNAL, NET.nodeIp(), NODE_PORT, Protocol.TCP);
        ServerReply reply = client.tcpGet(NET.nodeIp(), NODE_PORT, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isIn("pod1", "pod2");
        // externalTrafficPolicy Cluster: the source is masqueraded to the node.
        assertThat(reply.clientIp()).isIn(NET.pod1Gateway(), NET.pod2Gateway());
        assertPredicted(NET, predicted, one(reply), NET.clientIp(), false, NodeTopology.POD_TCP_PORT);
    }

    @Test
    void externalIpReachesAPod() {
        Trace predicted = predict(NET.clientIp(), Origin.EXTERNAL, EXTERNAL_IP, 80, Protocol.TCP);
        ServerReply reply = client.tcpGet(EXTERNAL_IP, 80, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isIn("pod1", "pod2");
        assertPredicted(NET, predicted, one(reply), NET.clientIp(), false, NodeTopology.POD_TCP_PORT);
    }

    @Test
    void loadBalancerIpHonoursLoadBalancerSourceRanges() throws Exception {
        Trace allowedPredicted = predict(NET.clientIp(), Origin.EXTERNAL, LB_ALLOWED_IP, 80, Protocol.TCP);
        Trace deniedPredicted = predict(NET.clientIp(), Origin.EXTERNAL, LB_DENIED_IP, 80, Protocol.TCP);
        ServerReply allowed = client.tcpGet(LB_ALLOWED_IP, 80, PROBE_TIMEOUT).serverReply();
        assertThat(allowed.serverName()).isIn("pod1", "pod2");
        assertPredicted(NET, allowedPredicted, one(allowed), NET.clientIp(), false, NodeTopology.POD_TCP_PORT);

        long droppedBefore = firewallDropPackets(LB_DENIED_IP);
        ProbeResult denied = client.tcpGet(LB_DENIED_IP, 80, DROP_PROBE_TIMEOUT);

        assertThat(denied.outcome()).as("client outside loadBalancerSourceRanges: %s", denied)
                .isEqualTo(ProbeResult.Outcome.TIMEOUT);
        assertThat(firewallDropPackets(LB_DENIED_IP)).as("packets dropped by KUBE-PROXY-FIREWALL for " + LB_DENIED_IP)
                .isGreaterThan(droppedBefore);
        assertThat(deniedPredicted.verdicts()).as("predicted for %s", denied).containsOnlyKeys(Verdict.DROP);
        assertThat(deniedPredicted.outcomes().get(0).decidedBy()).startsWith("filter KUBE-PROXY-FIREWALL");
    }

    @Test
    void clientIpAffinityKeepsEveryConnectionOnOnePod() {
        Trace predicted = predict(NET.clientIp(), Origin.EXTERNAL, NET.serviceIp(STICKY), 80, Protocol.TCP);
        Map<String, List<ServerReply>> byPod = connect(client, NET.serviceIp(STICKY), 80, 15);

        assertThat(byPod).as("15 connections with sessionAffinity ClientIP, by serving pod").hasSize(1);
        // A new client is balanced over both; the affinity check that keeps it on its first pod is reported.
        assertPredicted(NET, predicted, replies(byPod), NET.clientIp(), false, NodeTopology.POD_TCP_PORT);
        assertThat(predicted.endpoints()).hasSize(2);
        assertThat(predicted.affinity()).extracting(a -> a.seconds()).containsOnly(60L);
        assertThat(predicted.affinity()).extracting(a -> a.endpoint()).containsExactlyInAnyOrder(
                NET.pod1Ip() + ":" + NodeTopology.POD_TCP_PORT, NET.pod2Ip() + ":" + NodeTopology.POD_TCP_PORT);
    }

    @Test
    void externalTrafficPolicyLocalUsesOnlyLocalEndpointsAndPreservesTheSource() {
        Trace predicted = predict(NET.clientIp(), Origin.EXTERNAL, NET.nodeIp(), LOCAL_NODE_PORT, Protocol.TCP);
        List<ServerReply> replies = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            replies.add(client.tcpGet(NET.nodeIp(), LOCAL_NODE_PORT, PROBE_TIMEOUT).serverReply());
        }

        assertThat(replies).extracting(ServerReply::serverName).as("serving pod").containsOnly("pod1");
        assertThat(replies).extracting(ServerReply::clientIp).as("source seen by pod1").containsOnly(NET.clientIp());
        assertPredicted(NET, predicted, Map.of("pod1", clientsOf(replies)), NET.clientIp(), true,
                NodeTopology.POD_TCP_PORT);
    }

    @Test
    void serviceWithoutReadyEndpointsRejectsConnectionsAtOnce() {
        Trace predicted = predict(NET.clientIp(), Origin.EXTERNAL, NET.serviceIp(NO_ENDPOINTS), 80, Protocol.TCP);
        long start = System.nanoTime();
        ProbeResult result = client.tcpGet(NET.serviceIp(NO_ENDPOINTS), 80, PROBE_TIMEOUT);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        assertThat(result.outcome()).as("%s", result).isEqualTo(ProbeResult.Outcome.REFUSED);
        assertThat(elapsed).isLessThan(Duration.ofMillis(1000));
        assertThat(predicted.verdicts()).as("predicted for %s", result).containsOnlyKeys(Verdict.REJECT);
    }

    @Test
    void udpClusterIpReachesAPod() {
        Trace predicted = predict(NET.clientIp(), Origin.EXTERNAL, NET.serviceIp(DNS), 53, Protocol.UDP);
        ServerReply reply = client.udpGet(NET.serviceIp(DNS), 53, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isIn("pod1", "pod2");
        assertThat(reply.clientIp()).isIn(NET.pod1Gateway(), NET.pod2Gateway());
        assertPredicted(NET, predicted, one(reply), NET.clientIp(), false, NodeTopology.POD_UDP_PORT);
    }

    /** SCTP INITs, sent and recorded through raw sockets (the kernel here has no SCTP sockets, but NATs SCTP). */
    @Test
    void sctpClusterIpReachesBothPods() throws Exception {
        Trace predicted = predict(NET.clientIp(), Origin.EXTERNAL, NET.serviceIp(SIGNALLING), SCTP_PORT, Protocol.SCTP);
        Map<String, List<SctpInit>> byPod = topology.sendSctpInits(client, NET.serviceIp(SIGNALLING), SCTP_PORT, 20);

        assertThat(byPod).containsOnlyKeys("pod1", "pod2");
        assertThat(byPod.get("pod1")).extracting(SctpInit::destinationPort).containsOnly(NodeTopology.POD_SCTP_PORT);
        assertThat(byPod.get("pod2")).extracting(SctpInit::sourceIp).containsOnly(NET.pod2Gateway());
        assertPredicted(NET, predicted, inits(byPod), NET.clientIp(), true, NodeTopology.POD_SCTP_PORT);
    }

    @Test
    void internalTrafficPolicyLocalKeepsPodTrafficOnTheNode() {
        Trace predicted = predict(NET.pod1Ip(), Origin.POD, NET.serviceIp(ITP_LOCAL), 80, Protocol.TCP);
        Map<String, List<ServerReply>> byPod = connect(pod1, NET.serviceIp(ITP_LOCAL), 80, 15);

        assertThat(byPod).as("pod1 -> internalTrafficPolicy Local service, by serving pod").containsOnlyKeys("pod1");
        assertPredicted(NET, predicted, replies(byPod), NET.pod1Ip(), true, NodeTopology.POD_TCP_PORT);
    }

    @Test
    void servingTerminatingEndpointIsUsedWhenNoneIsReady() {
        Trace predicted = predict(NET.clientIp(), Origin.EXTERNAL, NET.serviceIp(TERMINATING), 80, Protocol.TCP);
        ServerReply reply = client.tcpGet(NET.serviceIp(TERMINATING), 80, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isEqualTo("pod2");
        assertPredicted(NET, predicted, one(reply), NET.clientIp(), true, NodeTopology.POD_TCP_PORT);
    }

    @Test
    void theNodesOwnRulesDiffEqualToTheRenderOfItsManifests() throws Exception {
        // The same render, but knowing every address the node has (its pod-side gateways too), as the live side does.
        IptablesServiceRuleset rendered = IptablesServiceRuleset.fromText("manifests", "render", renderedRules,
                fromNode.localAddresses());
        String saved = IptablesSave.of(IpFamily.V4, IptablesBackend.AUTO).withCommandPrefix(node.commandPrefix()).save();

        RulesetDiff.Report report = RulesetDiff.compare(rendered, fromNode,
                new RulesetDiff.Settings(IpFamily.V4, NET.clusterCidr()));

        assertThat(report.differing()).as("differences between the render and%n%s", saved).isEmpty();
        assertThat(report.frontends()).as("frontends").hasSizeGreaterThanOrEqualTo(14);
        assertThat(fromNode.notes()).as("a node's dump has its jump rules; none are added").isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Predictions

    /**
     * What {@code railyard trace} predicts for the first packet of a connection: the same from the manifests and
     * from the node's own rules, which is what is returned.
     */
    private static Trace predict(String source, Origin origin, String destination, int port, Protocol protocol) {
        return TracePredictions.predict(fromManifests, fromNode,
                Packet.of(source, destination, port, protocol, origin));
    }

    // ---------------------------------------------------------------------------------------------------------

    /** Packets counted by the DROP rules in filter KUBE-PROXY-FIREWALL for {@code destination}. */
    private static long firewallDropPackets(String destination) {
        String saved = node.execChecked("iptables-save", "-c", "-t", "filter").stdout();
        long packets = 0;
        boolean found = false;
        for (String line : saved.split("\n")) {
            // [12:720] -A KUBE-PROXY-FIREWALL -d 203.0.113.21/32 -p tcp -m comment ... -j DROP
            if (line.startsWith("[") && line.contains(" -A KUBE-PROXY-FIREWALL ")
                    && line.contains(" -d " + destination + "/32 ") && line.endsWith(" -j DROP")) {
                packets += Long.parseLong(line.substring(1, line.indexOf(':')));
                found = true;
            }
        }
        assertThat(found).as("a KUBE-PROXY-FIREWALL DROP rule for %s in%n%s%nrendered:%n%s", destination, saved,
                renderedRules).isTrue();
        return packets;
    }

    private static String render(String manifests) throws Exception {
        ClusterSnapshot snapshot = ManifestLoader.parse("service-traffic.yaml", manifests);
        assertThat(snapshot.problems()).isEmpty();
        return new IptablesRenderer(renderConfig()).render(snapshot.state(IpFamily.V4, NodeTopology.NODE_NAME))
                .toString();
    }

    private static RenderConfig renderConfig() {
        return RenderConfig.builder(IpFamily.V4)
                .nodeName(NodeTopology.NODE_NAME)
                .nodeIps(List.of(NET.nodeIp()))
                .clusterCidrs(List.of(NET.clusterCidr()))
                .build();
    }
}
