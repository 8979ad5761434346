package dev.railyard.proxy.kernel;

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
import dev.railyard.testkit.ServerReply;
import dev.railyard.testkit.VethLink;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rules Railyard renders, applied to a real kernel, behave as Kubernetes Services do.
 *
 * <p>Topology (built once for the class):
 * <pre>
 *   client 192.0.2.2/24 ──── 192.0.2.1/24 ┐
 *   (default via 192.0.2.1)               │ node "node-a": ip_forward=1, Railyard's rules + jump rules,
 *                                         │ default route via 192.0.2.2 (its "uplink"), pods routed, not bridged
 *   pod1 10.244.1.2/24 ──── 10.244.1.1/24 ┤   pod1's endpoints: nodeName node-a (local)
 *   pod2 10.244.2.2/24 ──── 10.244.2.1/24 ┘   pod2's endpoints: nodeName node-b (remote)
 * </pre>
 * Each pod runs an agent serving TCP 8080 and UDP 5353 that answers with its name and the client address it saw.
 * One manifest set with every service below is rendered and applied with {@link IptablesRestore} and
 * {@link JumpRules}, as the proxy does.
 *
 * <p>Every probe is also predicted with {@code railyard trace}'s evaluator, twice: through the manifests (rendered,
 * plus the jump rules the proxy installs) and through the namespace's own {@code iptables-save} and local routing
 * table, as {@code trace --live} reads them. Both predictions must agree with each other and with what the
 * packets did: the endpoints reached, whether the pod saw the client's address or the node's (masquerade), and
 * refused (REJECT) or unanswered (DROP) connections.
 *
 * <p>The node's default route towards the client network is what a real node has: traffic to an address the
 * node does not own (a cluster IP with no endpoints, a load-balancer IP the firewall refuses) is routed and so
 * crosses FORWARD, where kube-proxy's filter rules act, instead of failing the route lookup first.
 */
@RequiresPrivileges(commands = {"iptables-restore", "ip6tables-restore", "ip"})
class ServiceTrafficTest {

    static final String NODE_NAME = "node-a";
    static final String NODE_IP = "192.0.2.1";
    static final String CLIENT_IP = "192.0.2.2";
    static final String POD1_IP = "10.244.1.2";
    static final String POD1_GATEWAY = "10.244.1.1";
    static final String POD2_IP = "10.244.2.2";
    static final String POD2_GATEWAY = "10.244.2.1";
    static final String CLUSTER_CIDR = "10.244.0.0/16";

    static final int POD_TCP_PORT = 8080;
    static final int POD_UDP_PORT = 5353;

    static final String WEB_IP = "10.96.0.10";
    static final int NODE_PORT = 30080;
    static final String EXTERNAL_IP = "203.0.113.10";
    static final String LB_ALLOWED_IP = "203.0.113.20";
    static final String LB_DENIED_IP = "203.0.113.21";
    static final String STICKY_IP = "10.96.0.15";
    static final int LOCAL_NODE_PORT = 30081;
    static final String NO_ENDPOINTS_IP = "10.96.0.17";
    static final String DNS_IP = "10.96.0.53";
    static final String ITP_LOCAL_IP = "10.96.0.60";
    static final String TERMINATING_IP = "10.96.0.70";

    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
    /** Long enough for a SYN and its answer on a local veth; short enough to keep the DROP test quick. */
    static final Duration DROP_PROBE_TIMEOUT = Duration.ofMillis(1500);

    private static final List<AutoCloseable> OPENED = new ArrayList<>();
    private static NetworkNamespace node;
    private static AgentHandle client;
    private static AgentHandle pod1;
    private static AgentHandle pod2;
    private static String renderedRules;
    private static IptablesServiceRuleset fromManifests;
    private static IptablesServiceRuleset fromNode;

    @BeforeAll
    static void buildNodeWithPodsAndApplyRules() throws Exception {
        try {
            node = open(NetworkNamespace::create);
            NetworkNamespace pod1Ns = open(NetworkNamespace::create);
            NetworkNamespace pod2Ns = open(NetworkNamespace::create);
            NetworkNamespace clientNs = open(NetworkNamespace::create);

            node.sysctl("net.ipv4.ip_forward", "1");
            // Hairpin traffic (pod1 -> service -> pod1) leaves by the interface it came in on; an ICMP redirect
            // would only be noise. CNI plugins that route pods turn these off too.
            node.sysctl("net.ipv4.conf.all.send_redirects", "0");
            node.sysctl("net.ipv4.conf.default.send_redirects", "0");

            VethLink toPod1 = VethLink.between(node, pod1Ns).names("veth-pod1", "eth0")
                    .ipv4(POD1_GATEWAY + "/24", POD1_IP + "/24").create();
            VethLink toPod2 = VethLink.between(node, pod2Ns).names("veth-pod2", "eth0")
                    .ipv4(POD2_GATEWAY + "/24", POD2_IP + "/24").create();
            VethLink toClient = VethLink.between(node, clientNs).names("veth-client", "eth0")
                    .ipv4(NODE_IP + "/24", CLIENT_IP + "/24").create();
            toPod1.b().addRoute("default", POD1_GATEWAY);
            toPod2.b().addRoute("default", POD2_GATEWAY);
            toClient.b().addRoute("default", NODE_IP);
            toClient.b().addRoute("10.96.0.0/12", NODE_IP);
            toClient.a().addRoute("default", CLIENT_IP);

            renderedRules = render(manifests());
            byte[] rules = renderedRules.getBytes(StandardCharsets.UTF_8);
            IptablesRestore restore = IptablesRestore.of(IpFamily.V4).withCommandPrefix(node.commandPrefix());
            restore.test(rules);
            restore.restore(rules);
            JumpRules.of(IpFamily.V4).withCommandPrefix(node.commandPrefix()).ensure();
            fromManifests = IptablesServiceRuleset.fromRender("manifests", renderConfig(),
                    ManifestLoader.parse("service-traffic.yaml", manifests()).state(IpFamily.V4, NODE_NAME));
            fromNode = LiveNode.of(IpFamily.V4, IptablesBackend.AUTO).withCommandPrefix(node.commandPrefix()).read();

            pod1 = open(pod1Ns::startAgent);
            pod2 = open(pod2Ns::startAgent);
            client = open(clientNs::startAgent);
            pod1.tcpServe(POD_TCP_PORT, "pod1");
            pod1.udpServe(POD_UDP_PORT, "pod1");
            pod2.tcpServe(POD_TCP_PORT, "pod2");
            pod2.udpServe(POD_UDP_PORT, "pod2");

            // Sanity: plain routing works before any service is involved, so failures below are about services.
            assertThat(client.tcpGet(POD1_IP, POD_TCP_PORT, PROBE_TIMEOUT).serverReply().serverName()).isEqualTo("pod1");
            assertThat(client.tcpGet(POD2_IP, POD_TCP_PORT, PROBE_TIMEOUT).serverReply().serverName()).isEqualTo("pod2");
        } catch (Throwable e) {
            try {
                tearDown();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    @AfterAll
    static void tearDown() {
        RuntimeException first = null;
        // Agents before namespaces, in reverse order of creation.
        for (int i = OPENED.size() - 1; i >= 0; i--) {
            try {
                OPENED.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = new IllegalStateException("cleanup failed", e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        OPENED.clear();
        if (first != null) {
            throw first;
        }
    }

    // ---------------------------------------------------------------------------------------------------------

    @Test
    void clusterIpSpreadsOverBothPodsAndMasqueradesOnlyTrafficFromOutsideTheClusterCidr() {
        Trace fromPod1Predicted = predict(POD1_IP, Origin.POD, WEB_IP, 80, Protocol.TCP);
        Trace fromClientPredicted = predict(CLIENT_IP, Origin.EXTERNAL, WEB_IP, 80, Protocol.TCP);
        Map<String, List<ServerReply>> fromPod1 = connect(pod1, WEB_IP, 80, 30);
        Map<String, List<ServerReply>> fromClient = connect(client, WEB_IP, 80, 30);

        assertThat(fromPod1).as("pod1 -> cluster IP, by serving pod").containsOnlyKeys("pod1", "pod2");
        assertThat(fromClient).as("client -> cluster IP, by serving pod").containsOnlyKeys("pod1", "pod2");

        // Pod traffic is not masqueraded: pod2 sees pod1 itself.
        assertThat(fromPod1.get("pod2")).extracting(ServerReply::clientIp).containsOnly(POD1_IP);
        // Except hairpin traffic (pod1 -> service -> pod1), which must be masqueraded or the reply would go
        // straight back inside pod1 and never be un-DNATed.
        assertThat(fromPod1.get("pod1")).extracting(ServerReply::clientIp).containsOnly(POD1_GATEWAY);
        // The client (192.0.2.2) is outside --cluster-cidr: each pod sees the node's address on its link.
        assertThat(fromClient.get("pod1")).extracting(ServerReply::clientIp).containsOnly(POD1_GATEWAY);
        assertThat(fromClient.get("pod2")).extracting(ServerReply::clientIp).containsOnly(POD2_GATEWAY);

        assertPredicted(fromPod1Predicted, fromPod1, POD1_IP, true);
        assertPredicted(fromClientPredicted, fromClient, CLIENT_IP, true);
        assertThat(fromPod1Predicted.endpoints()).extracting(EndpointShare::probability).containsOnly(0.5);
    }

    @Test
    void nodePortOnTheNodeAddressReachesAPod() {
        Trace predicted = predict(CLIENT_IP, Origin.EXTERNAL, NODE_IP, NODE_PORT, Protocol.TCP);
        ServerReply reply = client.tcpGet(NODE_IP, NODE_PORT, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isIn("pod1", "pod2");
        // externalTrafficPolicy Cluster: the source is masqueraded to the node.
        assertThat(reply.clientIp()).isIn(POD1_GATEWAY, POD2_GATEWAY);
        assertPredicted(predicted, Map.of(reply.serverName(), List.of(reply)), CLIENT_IP, false);
    }

    @Test
    void externalIpReachesAPod() {
        Trace predicted = predict(CLIENT_IP, Origin.EXTERNAL, EXTERNAL_IP, 80, Protocol.TCP);
        ServerReply reply = client.tcpGet(EXTERNAL_IP, 80, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isIn("pod1", "pod2");
        assertPredicted(predicted, Map.of(reply.serverName(), List.of(reply)), CLIENT_IP, false);
    }

    @Test
    void loadBalancerIpHonoursLoadBalancerSourceRanges() throws Exception {
        Trace allowedPredicted = predict(CLIENT_IP, Origin.EXTERNAL, LB_ALLOWED_IP, 80, Protocol.TCP);
        Trace deniedPredicted = predict(CLIENT_IP, Origin.EXTERNAL, LB_DENIED_IP, 80, Protocol.TCP);
        ServerReply allowed = client.tcpGet(LB_ALLOWED_IP, 80, PROBE_TIMEOUT).serverReply();
        assertThat(allowed.serverName()).isIn("pod1", "pod2");
        assertPredicted(allowedPredicted, Map.of(allowed.serverName(), List.of(allowed)), CLIENT_IP, false);

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
        Trace predicted = predict(CLIENT_IP, Origin.EXTERNAL, STICKY_IP, 80, Protocol.TCP);
        Map<String, List<ServerReply>> byPod = connect(client, STICKY_IP, 80, 15);

        assertThat(byPod).as("15 connections with sessionAffinity ClientIP, by serving pod").hasSize(1);
        // A new client is balanced over both; the affinity check that keeps it on its first pod is reported.
        assertPredicted(predicted, byPod, CLIENT_IP, false);
        assertThat(predicted.endpoints()).hasSize(2);
        assertThat(predicted.affinity()).extracting(a -> a.seconds()).containsOnly(60L);
        assertThat(predicted.affinity()).extracting(a -> a.endpoint())
                .containsExactlyInAnyOrder(POD1_IP + ":" + POD_TCP_PORT, POD2_IP + ":" + POD_TCP_PORT);
    }

    @Test
    void externalTrafficPolicyLocalUsesOnlyLocalEndpointsAndPreservesTheSource() {
        Trace predicted = predict(CLIENT_IP, Origin.EXTERNAL, NODE_IP, LOCAL_NODE_PORT, Protocol.TCP);
        List<ServerReply> replies = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            replies.add(client.tcpGet(NODE_IP, LOCAL_NODE_PORT, PROBE_TIMEOUT).serverReply());
        }

        assertThat(replies).extracting(ServerReply::serverName).as("serving pod").containsOnly("pod1");
        assertThat(replies).extracting(ServerReply::clientIp).as("source seen by pod1").containsOnly(CLIENT_IP);
        assertPredicted(predicted, Map.of("pod1", replies), CLIENT_IP, true);
    }

    @Test
    void serviceWithoutReadyEndpointsRejectsConnectionsAtOnce() {
        Trace predicted = predict(CLIENT_IP, Origin.EXTERNAL, NO_ENDPOINTS_IP, 80, Protocol.TCP);
        long start = System.nanoTime();
        ProbeResult result = client.tcpGet(NO_ENDPOINTS_IP, 80, PROBE_TIMEOUT);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        assertThat(result.outcome()).as("%s", result).isEqualTo(ProbeResult.Outcome.REFUSED);
        assertThat(elapsed).isLessThan(Duration.ofMillis(1000));
        assertThat(predicted.verdicts()).as("predicted for %s", result).containsOnlyKeys(Verdict.REJECT);
    }

    @Test
    void udpClusterIpReachesAPod() {
        Trace predicted = predict(CLIENT_IP, Origin.EXTERNAL, DNS_IP, 53, Protocol.UDP);
        ServerReply reply = client.udpGet(DNS_IP, 53, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isIn("pod1", "pod2");
        assertThat(reply.clientIp()).isIn(POD1_GATEWAY, POD2_GATEWAY);
        assertPredicted(predicted, Map.of(reply.serverName(), List.of(reply)), CLIENT_IP, false, POD_UDP_PORT);
    }

    @Test
    void internalTrafficPolicyLocalKeepsPodTrafficOnTheNode() {
        Trace predicted = predict(POD1_IP, Origin.POD, ITP_LOCAL_IP, 80, Protocol.TCP);
        Map<String, List<ServerReply>> byPod = connect(pod1, ITP_LOCAL_IP, 80, 15);

        assertThat(byPod).as("pod1 -> internalTrafficPolicy Local service, by serving pod").containsOnlyKeys("pod1");
        assertPredicted(predicted, byPod, POD1_IP, true);
    }

    @Test
    void servingTerminatingEndpointIsUsedWhenNoneIsReady() {
        Trace predicted = predict(CLIENT_IP, Origin.EXTERNAL, TERMINATING_IP, 80, Protocol.TCP);
        ServerReply reply = client.tcpGet(TERMINATING_IP, 80, PROBE_TIMEOUT).serverReply();

        assertThat(reply.serverName()).isEqualTo("pod2");
        assertPredicted(predicted, Map.of("pod2", List.of(reply)), CLIENT_IP, true);
    }

    @Test
    void theNodesOwnRulesDiffEqualToTheRenderOfItsManifests() throws Exception {
        // The same render, but knowing every address the node has (its pod-side gateways too), as the live side does.
        IptablesServiceRuleset rendered = IptablesServiceRuleset.fromText("manifests", "render", renderedRules,
                fromNode.localAddresses());
        String saved = IptablesSave.of(IpFamily.V4, IptablesBackend.AUTO).withCommandPrefix(node.commandPrefix()).save();

        RulesetDiff.Report report = RulesetDiff.compare(rendered, fromNode,
                new RulesetDiff.Settings(IpFamily.V4, CLUSTER_CIDR));

        assertThat(report.differing()).as("differences between the render and%n%s", saved).isEmpty();
        assertThat(report.frontends()).as("frontends").hasSizeGreaterThanOrEqualTo(14);
        assertThat(fromNode.notes()).as("a node's dump has its jump rules; none are added").isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------

    private static final Map<String, String> POD_BY_IP = Map.of(POD1_IP, "pod1", POD2_IP, "pod2");

    /**
     * What {@code railyard trace} predicts for the first packet of a connection: the same from the manifests and
     * from the node's own rules, which is what is returned.
     */
    private static Trace predict(String source, Origin origin, String destination, int port, Protocol protocol) {
        Packet packet = Packet.of(source, destination, port, protocol, origin);
        Trace manifests = fromManifests.trace(packet);
        Trace live = fromNode.trace(packet);
        String description = packet.describe();
        assertThat(live.unevaluated()).as("%s: rules that cannot be evaluated", description).isEmpty();
        assertThat(manifests.unevaluated()).as("%s: rules that cannot be evaluated", description).isEmpty();
        assertThat(live.verdicts()).as("%s: verdicts, live vs manifests", description)
                .isEqualTo(manifests.verdicts());
        assertThat(live.endpoints()).as("%s: endpoints, live vs manifests", description)
                .isEqualTo(manifests.endpoints());
        assertThat(live.affinity()).as("%s: affinity, live vs manifests", description)
                .isEqualTo(manifests.affinity());
        return live;
    }

    private static void assertPredicted(Trace predicted, Map<String, List<ServerReply>> observed, String sourceIp,
                                        boolean everyEndpointSeen) {
        assertPredicted(predicted, observed, sourceIp, everyEndpointSeen, POD_TCP_PORT);
    }

    /**
     * The pods that answered are among the predicted endpoints (all of them when {@code everyEndpointSeen}), and
     * each saw the client's own address exactly when the trace predicted no masquerade for its endpoint.
     */
    private static void assertPredicted(Trace predicted, Map<String, List<ServerReply>> observed, String sourceIp,
                                        boolean everyEndpointSeen, int podPort) {
        assertThat(predicted.verdicts()).as("predicted verdict").containsOnlyKeys(Verdict.DNAT);
        Map<String, EndpointShare> byPod = new TreeMap<>();
        for (EndpointShare endpoint : predicted.endpoints()) {
            String ip = endpoint.address().substring(0, endpoint.address().lastIndexOf(':'));
            assertThat(endpoint.address()).isEqualTo(ip + ":" + podPort);
            byPod.put(POD_BY_IP.get(ip), endpoint);
        }
        Set<String> seen = new TreeSet<>(observed.keySet());
        if (everyEndpointSeen) {
            assertThat(seen).as("pods that answered vs predicted endpoints").isEqualTo(byPod.keySet());
        } else {
            assertThat(byPod.keySet()).as("predicted endpoints").containsAll(seen);
        }
        for (Map.Entry<String, List<ServerReply>> pod : observed.entrySet()) {
            boolean masqueraded = byPod.get(pod.getKey()).masquerade();
            Set<Boolean> sawOtherAddress = pod.getValue().stream().map(r -> !r.clientIp().equals(sourceIp))
                    .collect(Collectors.toSet());
            assertThat(sawOtherAddress).as("%s saw a masqueraded source (predicted: %s)", pod.getKey(), masqueraded)
                    .containsOnly(masqueraded);
        }
    }

    /** {@code count} TCP connections, grouped by the pod that answered; every one must succeed. */
    private static Map<String, List<ServerReply>> connect(AgentHandle from, String ip, int port, int count) {
        Map<String, List<ServerReply>> byPod = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            ProbeResult result = from.tcpGet(ip, port, PROBE_TIMEOUT);
            assertThat(result.isOk()).as("connection %d of %d from %s to %s:%d: %s", i + 1, count,
                    from.namespace().name(), ip, port, result).isTrue();
            ServerReply reply = result.serverReply();
            byPod.computeIfAbsent(reply.serverName(), k -> new ArrayList<>()).add(reply);
        }
        return byPod;
    }

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
        return new IptablesRenderer(renderConfig()).render(snapshot.state(IpFamily.V4, NODE_NAME)).toString();
    }

    private static RenderConfig renderConfig() {
        return RenderConfig.builder(IpFamily.V4)
                .nodeName(NODE_NAME)
                .nodeIps(List.of(NODE_IP))
                .clusterCidrs(List.of(CLUSTER_CIDR))
                .build();
    }

    private static <T extends AutoCloseable> T open(Supplier<T> opener) {
        T resource = opener.get();
        OPENED.add(resource);
        return resource;
    }

    // ---------------------------------------------------------------------------------------------------------

    private static final String POD1_READY = "- addresses: [" + POD1_IP + "]\n  nodeName: node-a\n";
    private static final String POD2_READY = "- addresses: [" + POD2_IP + "]\n  nodeName: node-b\n";
    private static final String BOTH_READY = POD1_READY + POD2_READY;
    private static final String HTTP_PORT = "- {name: http, port: " + POD_TCP_PORT + ", protocol: TCP}\n";

    /** Every service the tests use, in one manifest set as a cluster would have them. */
    static String manifests() {
        return service("web", """
                  clusterIP: 10.96.0.10
                  ports: [{name: http, port: 80, protocol: TCP}]
                """) + slice("web", BOTH_READY, HTTP_PORT)
                + service("nodeport", """
                  type: NodePort
                  clusterIP: 10.96.0.11
                  ports: [{name: http, port: 80, nodePort: 30080, protocol: TCP}]
                """) + slice("nodeport", BOTH_READY, HTTP_PORT)
                + service("external", """
                  clusterIP: 10.96.0.12
                  externalIPs: [203.0.113.10]
                  ports: [{name: http, port: 80, protocol: TCP}]
                """) + slice("external", BOTH_READY, HTTP_PORT)
                + service("lb-allowed", """
                  type: LoadBalancer
                  clusterIP: 10.96.0.13
                  loadBalancerSourceRanges: [192.0.2.0/24]
                  ports: [{name: http, port: 80, nodePort: 30090, protocol: TCP}]
                status:
                  loadBalancer:
                    ingress: [{ip: 203.0.113.20}]
                """) + slice("lb-allowed", BOTH_READY, HTTP_PORT)
                + service("lb-denied", """
                  type: LoadBalancer
                  clusterIP: 10.96.0.14
                  loadBalancerSourceRanges: [198.51.100.0/24]
                  ports: [{name: http, port: 80, nodePort: 30091, protocol: TCP}]
                status:
                  loadBalancer:
                    ingress: [{ip: 203.0.113.21}]
                """) + slice("lb-denied", BOTH_READY, HTTP_PORT)
                + service("sticky", """
                  clusterIP: 10.96.0.15
                  sessionAffinity: ClientIP
                  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
                  ports: [{name: http, port: 80, protocol: TCP}]
                """) + slice("sticky", BOTH_READY, HTTP_PORT)
                + service("local-nodeport", """
                  type: NodePort
                  clusterIP: 10.96.0.16
                  externalTrafficPolicy: Local
                  ports: [{name: http, port: 80, nodePort: 30081, protocol: TCP}]
                """) + slice("local-nodeport", BOTH_READY, HTTP_PORT)
                + service("no-endpoints", """
                  clusterIP: 10.96.0.17
                  ports: [{name: http, port: 80, protocol: TCP}]
                """) + slice("no-endpoints", """
                - addresses: [10.244.1.2]
                  conditions: {ready: false, serving: false, terminating: false}
                  nodeName: node-a
                """, HTTP_PORT)
                + service("dns", """
                  clusterIP: 10.96.0.53
                  ports: [{name: dns, port: 53, protocol: UDP}]
                """) + slice("dns", BOTH_READY, "- {name: dns, port: " + POD_UDP_PORT + ", protocol: UDP}\n")
                + service("node-local", """
                  clusterIP: 10.96.0.60
                  internalTrafficPolicy: Local
                  ports: [{name: http, port: 80, protocol: TCP}]
                """) + slice("node-local", BOTH_READY, HTTP_PORT)
                + service("rolling", """
                  clusterIP: 10.96.0.70
                  ports: [{name: http, port: 80, protocol: TCP}]
                """) + slice("rolling", """
                - addresses: [10.244.2.2]
                  conditions: {ready: false, serving: true, terminating: true}
                  nodeName: node-b
                """, HTTP_PORT);
    }

    /** {@code spec} is the indented body of {@code spec:}, optionally followed by a top-level {@code status:}. */
    private static String service(String name, String spec) {
        return "---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name + ", namespace: ns}\nspec:\n" + spec;
    }

    private static String slice(String service, String endpoints, String ports) {
        return "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + service
                + "-ipv4\n  namespace: ns\n  labels:\n    kubernetes.io/service-name: " + service
                + "\naddressType: IPv4\nendpoints:\n" + endpoints + "ports:\n" + ports;
    }
}
