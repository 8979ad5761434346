package dev.railyard.proxy.conntrack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.nftables.NftCommand;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.RenderConfig;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.VethLink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reconciler against a real conntrack table: a node namespace with two pods and a client, UDP flows to a
 * service's cluster IP and node port created by real datagrams, then the endpoint removed (and then every
 * endpoint): the flows whose reply source is no longer a serving endpoint go, the others stay.
 */
@RequiresPrivileges(commands = {"nft", "ip", "conntrack"})
class ConntrackReconcilerKernelTest {
    private static final String SERVICE_IP = "10.96.0.53";
    private static final int PORT = 53;
    private static final int NODE_PORT = 30053;
    private static final int POD_PORT = 5353;
    private static final String POD1 = "10.244.1.2";
    private static final String POD2 = "10.244.2.2";
    private static final String NODE_IP = "192.0.2.1";
    private static final ServicePortName NAME = ServicePortName.of("kube-system", "dns", "dns", Protocol.UDP);

    private final List<AutoCloseable> opened = new ArrayList<>();
    private NetworkNamespace node;
    private AgentHandle client;

    @BeforeEach
    void buildNode() {
        node = open(NetworkNamespace.create());
        NetworkNamespace pod1 = open(NetworkNamespace.create());
        NetworkNamespace pod2 = open(NetworkNamespace.create());
        NetworkNamespace clientNs = open(NetworkNamespace.create());
        node.sysctl("net.ipv4.ip_forward", "1");
        VethLink one = VethLink.between(node, pod1).names("veth-pod1", "eth0").ipv4("10.244.1.1/24", POD1 + "/24").create();
        VethLink two = VethLink.between(node, pod2).names("veth-pod2", "eth0").ipv4("10.244.2.1/24", POD2 + "/24").create();
        VethLink up = VethLink.between(node, clientNs).names("veth-client", "eth0").ipv4(NODE_IP + "/24", "192.0.2.2/24")
                .create();
        one.b().addRoute("default", "10.244.1.1");
        two.b().addRoute("default", "10.244.2.1");
        up.b().addRoute("default", NODE_IP);
        open(pod1.startAgent()).udpServe(POD_PORT, "pod1");
        open(pod2.startAgent()).udpServe(POD_PORT, "pod2");
        client = open(clientNs.startAgent());
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    private <T extends AutoCloseable> T open(T resource) {
        opened.add(resource);
        return resource;
    }

    private static ProxyState state(String... podIps) {
        ServicePort port = ServicePort.builder(NAME, SERVICE_IP, PORT).nodePort(NODE_PORT).build();
        List<Endpoint> endpoints = new ArrayList<>();
        for (String ip : podIps) {
            endpoints.add(Endpoint.builder(NAME, ip, POD_PORT).nodeName("node-a").build());
        }
        return ProxyState.of(IpFamily.V4, List.of(port), Map.of(NAME, endpoints));
    }

    private void program(ProxyState state) throws Exception {
        RenderConfig config = RenderConfig.builder(IpFamily.V4).nodeName("node-a").nodeIps(List.of(NODE_IP))
                .clusterCidrs(List.of("10.244.0.0/16")).build();
        NftCommand.create().withCommandPrefix(node.commandPrefix()).apply(NftablesRenderer.script(config, state));
    }

    private String ask(String ip, int port) {
        ProbeResult result = client.udpGet(ip, port, Duration.ofSeconds(2));
        assertThat(result.isOk()).as("UDP %s:%d: %s", ip, port, result).isTrue();
        return result.serverReply().serverName();
    }

    /** Flows in the node's table to {@code dst}:{@code port} whose reply comes from {@code replySrc}. */
    private int flows(String dst, int port, String replySrc) {
        List<String> command = new ArrayList<>(List.of("conntrack", "-L", "-f", "ipv4", "-p", "udp", "--orig-port-dst",
                Integer.toString(port), "--reply-src", replySrc));
        if (dst != null) {
            command.addAll(List.of("--orig-dst", dst));
        }
        String out = node.exec(command.toArray(String[]::new)).stdout();
        return (int) out.lines().filter(line -> line.startsWith("udp")).count();
    }

    @Test
    void flowsToAnEndpointThatStoppedServingAreDeletedAndServingOnesKept() throws Exception {
        program(state(POD1, POD2));
        for (int i = 0; i < 8; i++) {
            ask(SERVICE_IP, PORT);
            ask(NODE_IP, NODE_PORT);
        }
        assertThat(flows(SERVICE_IP, PORT, POD1)).as("cluster IP flows answered by pod1").isPositive();
        assertThat(flows(null, NODE_PORT, POD1)).as("node port flows answered by pod1").isPositive();
        int pod2ClusterIpFlows = flows(SERVICE_IP, PORT, POD2);
        assertThat(pod2ClusterIpFlows).isPositive();

        ProxyState withoutPod1 = state(POD2);
        program(withoutPod1);
        ConntrackReconciler.Report report = new ConntrackReconciler(IpFamily.V4, node.commandPrefix(),
                Duration.ofSeconds(10)).reconcile(withoutPod1);

        assertThat(report.errors()).isEmpty();
        assertThat(flows(SERVICE_IP, PORT, POD1)).as("pod1's cluster IP flows").isZero();
        assertThat(flows(null, NODE_PORT, POD1)).as("pod1's node port flows").isZero();
        assertThat(flows(SERVICE_IP, PORT, POD2)).as("pod2 still serves: its flows stay").isEqualTo(pod2ClusterIpFlows);
        assertThat(report.deletedEntries()).isGreaterThanOrEqualTo(2);
        assertThat(ask(SERVICE_IP, PORT)).isEqualTo("pod2");
    }

    @Test
    void aServiceThatDroppedToZeroEndpointsLosesEveryFlow() throws Exception {
        program(state(POD2));
        for (int i = 0; i < 4; i++) {
            ask(SERVICE_IP, PORT);
        }
        assertThat(flows(SERVICE_IP, PORT, POD2)).isPositive();

        ProxyState none = state();
        program(none);
        ConntrackReconciler reconciler = new ConntrackReconciler(IpFamily.V4, node.commandPrefix(),
                Duration.ofSeconds(10));
        ConntrackReconciler.Report report = reconciler.reconcile(none);

        assertThat(report.errors()).isEmpty();
        assertThat(flows(SERVICE_IP, PORT, POD2)).as("kubernetes#139628: stale DNAT flows of a service without "
                + "endpoints").isZero();
        assertThat(report.deletedEntries()).isPositive();
        assertThat(reconciler.reconcile(none).deletedEntries()).as("nothing left to delete").isZero();
    }
}
