package dev.railyard.proxy.kernel;

import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.CaptureRulesRenderer;
import dev.railyard.proxy.render.CaptureTarget;
import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.VethLink;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Userspace mode's capture rules in a real kernel: plain test servers stand in for the proxy's listeners, so
 * this proves the rules alone. Traffic from a pod and from the node itself to a cluster IP, and to a NodePort,
 * reaches the listener on the proxy port with the client's own address; a UDP reply comes back from the service
 * address (the client's connected socket accepts nothing else); rewriting with no targets stops the capture.
 *
 * <pre>
 *   client 10.244.2.2/24 ─── 10.244.2.1 node (listeners on 0.0.0.0:4100x)
 * </pre>
 */
@RequiresPrivileges(commands = {"iptables-restore", "iptables", "ip"})
class CaptureRulesKernelTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final String CLIENT = "10.244.2.2";
    private static final String NODE = "10.244.2.1";

    @Test
    void redirectsServiceTrafficFromPodsAndTheHostToTheProxyPorts() throws Exception {
        ServicePort web = ServicePort.builder(ServicePortName.of("default", "web", "", Protocol.TCP),
                "10.96.0.10", 80).nodePort(30080).build();
        ServicePort dns = ServicePort.builder(ServicePortName.of("kube-system", "dns", "", Protocol.UDP),
                "10.96.0.53", 53).build();
        try (NetworkNamespace node = NetworkNamespace.create(); NetworkNamespace clientNs = NetworkNamespace.create()) {
            VethLink link = VethLink.between(node, clientNs).names("veth-client", "eth0")
                    .ipv4(NODE + "/24", CLIENT + "/24").create();
            link.b().addRoute("default", NODE);
            // A node always has a route towards the service network; without one, its own connects fail before
            // OUTPUT's nat rules see them.
            node.execChecked("ip", "route", "add", "10.96.0.0/12", "dev", "veth-client");
            JumpRules jumps = JumpRules.of(IpFamily.V4).withRules(JumpRules.USERSPACE_CAPTURE)
                    .withCommandPrefix(node.commandPrefix());
            IptablesRestore restore = IptablesRestore.of(IpFamily.V4).withCommandPrefix(node.commandPrefix());
            CaptureRulesRenderer renderer = new CaptureRulesRenderer(IpFamily.V4);
            try (AgentHandle proxy = node.startAgent(); AgentHandle client = clientNs.startAgent()) {
                proxy.tcpServe("0.0.0.0", 41000, "cluster-ip-listener");
                proxy.tcpServe("0.0.0.0", 41001, "node-port-listener");
                proxy.udpServe("0.0.0.0", 41002, "dns-listener");

                assertThat(jumps.ensure()).hasSize(4);
                restore.restore(renderer.render(List.of(new CaptureTarget(web, 41000, 41001),
                        CaptureTarget.of(dns, 41002))).toByteArray());

                ProbeResult fromPod = client.tcpGet("10.96.0.10", 80, TIMEOUT);
                assertThat(fromPod.isOk()).as("pod to cluster IP: %s", fromPod).isTrue();
                assertThat(fromPod.serverReply().serverName()).isEqualTo("cluster-ip-listener");
                assertThat(fromPod.serverReply().clientIp()).as("the proxy sees the real client").isEqualTo(CLIENT);

                ProbeResult fromHost = proxy.tcpGet("10.96.0.10", 80, TIMEOUT);
                assertThat(fromHost.isOk()).as("host to cluster IP: %s", fromHost).isTrue();
                assertThat(fromHost.serverReply().serverName()).isEqualTo("cluster-ip-listener");

                ProbeResult nodePort = client.tcpGet(NODE, 30080, TIMEOUT);
                assertThat(nodePort.isOk()).as("pod to NodePort: %s", nodePort).isTrue();
                assertThat(nodePort.serverReply().serverName()).isEqualTo("node-port-listener");
                ProbeResult localNodePort = proxy.tcpGet(NODE, 30080, TIMEOUT);
                assertThat(localNodePort.isOk()).as("host to its own NodePort: %s", localNodePort).isTrue();
                assertThat(localNodePort.serverReply().serverName()).isEqualTo("node-port-listener");

                ProbeResult udp = client.udpGet("10.96.0.53", 53, TIMEOUT);
                assertThat(udp.isOk()).as("UDP reply from the service address: %s", udp).isTrue();
                assertThat(udp.serverReply().serverName()).isEqualTo("dns-listener");

                restore.restore(renderer.render(List.of()).toByteArray());
                assertThat(client.tcpGet("10.96.0.10", 80, TIMEOUT).isOk()).as("no targets, no capture").isFalse();
                assertThat(client.tcpGet(NODE, 30080, TIMEOUT).isOk()).isFalse();

                assertThat(jumps.remove()).hasSize(4);
                assertThat(node.execChecked("iptables-save", "-t", "nat").stdout())
                        .doesNotContain("-j KUBE-PORTALS", "-j KUBE-NODEPORT-");
            }
        }
    }
}
