package dev.railyard.proxy.kernel;

import static dev.railyard.proxy.kernel.NodeTopology.DROP_PROBE_TIMEOUT;
import static dev.railyard.proxy.kernel.NodeTopology.PROBE_TIMEOUT;
import static dev.railyard.proxy.kernel.NodeTopology.connect;
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

import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.kernel.NodeTopology.Addresses;
import dev.railyard.proxy.model.IpFamily;
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
        } catch (Throwable e) {
            try {
                topology.close();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
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
    }

    @Test
    void nodePortOnTheNodeAddressReachesAPod() {
        ServerReply reply = client.tcpGet(NET.nodeIp(), NODE_PORT, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isIn("pod1", "pod2");
        // externalTrafficPolicy Cluster: the source is masqueraded to the node.
        assertThat(reply.clientIp()).isIn(NET.pod1Gateway(), NET.pod2Gateway());
    }

    @Test
    void externalIpReachesAPod() {
        ServerReply reply = client.tcpGet(EXTERNAL_IP, 80, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isIn("pod1", "pod2");
    }

    @Test
    void loadBalancerIpHonoursLoadBalancerSourceRanges() throws Exception {
        ServerReply allowed = client.tcpGet(LB_ALLOWED_IP, 80, PROBE_TIMEOUT).serverReply();
        assertThat(allowed.serverName()).isIn("pod1", "pod2");

        long droppedBefore = firewallDropPackets(LB_DENIED_IP);
        ProbeResult denied = client.tcpGet(LB_DENIED_IP, 80, DROP_PROBE_TIMEOUT);

        assertThat(denied.outcome()).as("client outside loadBalancerSourceRanges: %s", denied)
                .isEqualTo(ProbeResult.Outcome.TIMEOUT);
        assertThat(firewallDropPackets(LB_DENIED_IP)).as("packets dropped by KUBE-PROXY-FIREWALL for " + LB_DENIED_IP)
                .isGreaterThan(droppedBefore);
    }

    @Test
    void clientIpAffinityKeepsEveryConnectionOnOnePod() {
        Map<String, List<ServerReply>> byPod = connect(client, NET.serviceIp(STICKY), 80, 15);

        assertThat(byPod).as("15 connections with sessionAffinity ClientIP, by serving pod").hasSize(1);
    }

    @Test
    void externalTrafficPolicyLocalUsesOnlyLocalEndpointsAndPreservesTheSource() {
        List<ServerReply> replies = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            replies.add(client.tcpGet(NET.nodeIp(), LOCAL_NODE_PORT, PROBE_TIMEOUT).serverReply());
        }

        assertThat(replies).extracting(ServerReply::serverName).as("serving pod").containsOnly("pod1");
        assertThat(replies).extracting(ServerReply::clientIp).as("source seen by pod1").containsOnly(NET.clientIp());
    }

    @Test
    void serviceWithoutReadyEndpointsRejectsConnectionsAtOnce() {
        long start = System.nanoTime();
        ProbeResult result = client.tcpGet(NET.serviceIp(NO_ENDPOINTS), 80, PROBE_TIMEOUT);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        assertThat(result.outcome()).as("%s", result).isEqualTo(ProbeResult.Outcome.REFUSED);
        assertThat(elapsed).isLessThan(Duration.ofMillis(1000));
    }

    @Test
    void udpClusterIpReachesAPod() {
        ServerReply reply = client.udpGet(NET.serviceIp(DNS), 53, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isIn("pod1", "pod2");
        assertThat(reply.clientIp()).isIn(NET.pod1Gateway(), NET.pod2Gateway());
    }

    /** SCTP INITs, sent and recorded through raw sockets (the kernel here has no SCTP sockets, but NATs SCTP). */
    @Test
    void sctpClusterIpReachesBothPods() throws Exception {
        Map<String, List<SctpInit>> byPod = topology.sendSctpInits(client, NET.serviceIp(SIGNALLING), SCTP_PORT, 20);

        assertThat(byPod).containsOnlyKeys("pod1", "pod2");
        assertThat(byPod.get("pod1")).extracting(SctpInit::destinationPort).containsOnly(NodeTopology.POD_SCTP_PORT);
        assertThat(byPod.get("pod2")).extracting(SctpInit::sourceIp).containsOnly(NET.pod2Gateway());
    }

    @Test
    void internalTrafficPolicyLocalKeepsPodTrafficOnTheNode() {
        Map<String, List<ServerReply>> byPod = connect(pod1, NET.serviceIp(ITP_LOCAL), 80, 15);

        assertThat(byPod).as("pod1 -> internalTrafficPolicy Local service, by serving pod").containsOnlyKeys("pod1");
    }

    @Test
    void servingTerminatingEndpointIsUsedWhenNoneIsReady() {
        ServerReply reply = client.tcpGet(NET.serviceIp(TERMINATING), 80, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isEqualTo("pod2");
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
        RenderConfig config = RenderConfig.builder(IpFamily.V4)
                .nodeName(NodeTopology.NODE_NAME)
                .nodeIps(List.of(NET.nodeIp()))
                .clusterCidrs(List.of(NET.clusterCidr()))
                .build();
        return new IptablesRenderer(config).render(snapshot.state(IpFamily.V4, NodeTopology.NODE_NAME)).toString();
    }
}
