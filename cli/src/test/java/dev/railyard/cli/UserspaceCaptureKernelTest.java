package dev.railyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.NamespacedProcess;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.RequiresPrivileges;
import dev.railyard.testkit.VethLink;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code railyard proxy --proxy-mode userspace} as root on a node: the command runs inside the node's network
 * namespace (its listeners must be where the REDIRECT rules point), and a pod's traffic to a cluster IP, to a
 * NodePort and to a UDP service is captured into the proxy, which relays it to the endpoint pod. The endpoint
 * sees the node as the client: the proof that the proxy, not a DNAT rule, carried the connection. SIGTERM
 * empties the capture chains; --cleanup removes them and their jump rules.
 *
 * <pre>
 *   client 10.244.2.2/24 ─── 10.244.2.1 ┐ node "node-a": railyard proxy --proxy-mode userspace
 *   web    10.244.1.2/24 ─── 10.244.1.1 ┘
 * </pre>
 */
@RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "iptables", "ip"})
class UserspaceCaptureKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration PROBE = Duration.ofSeconds(2);
    private static final String WEB_POD = "10.244.1.2";
    private static final String NODE_TO_WEB = "10.244.1.1";
    private static final String NODE_TO_CLIENT = "10.244.2.1";

    @TempDir
    Path manifests;

    @Test
    void capturesClusterIpNodePortAndUdpTrafficIntoTheProxy() throws Exception {
        Files.writeString(manifests.resolve("services.yaml"), """
                apiVersion: v1
                kind: Service
                metadata: {name: web, namespace: default}
                spec:
                  type: NodePort
                  clusterIP: 10.96.0.10
                  ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: 30080}]
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
                addressType: IPv4
                ports: [{name: http, protocol: TCP, port: 8080}]
                endpoints: [{addresses: [10.244.1.2], conditions: {ready: true}}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: dns, namespace: kube-system}
                spec:
                  clusterIP: 10.96.0.53
                  ports: [{name: dns, protocol: UDP, port: 53, targetPort: 5353}]
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: dns-1, namespace: kube-system, labels: {kubernetes.io/service-name: dns}}
                addressType: IPv4
                ports: [{name: dns, protocol: UDP, port: 5353}]
                endpoints: [{addresses: [10.244.1.2], conditions: {ready: true}}]
                """);
        try (NetworkNamespace node = NetworkNamespace.create();
             NetworkNamespace webNs = NetworkNamespace.create();
             NetworkNamespace clientNs = NetworkNamespace.create()) {
            VethLink.between(node, webNs).names("veth-web", "eth0").ipv4(NODE_TO_WEB + "/24", WEB_POD + "/24")
                    .create().b().addRoute("default", NODE_TO_WEB);
            VethLink.between(node, clientNs).names("veth-client", "eth0")
                    .ipv4(NODE_TO_CLIENT + "/24", "10.244.2.2/24").create().b().addRoute("default", NODE_TO_CLIENT);

            try (AgentHandle web = webNs.startAgent(); AgentHandle client = clientNs.startAgent()) {
                web.tcpServe(8080, "web");
                web.udpServe(5353, "dns");
                NamespacedProcess proxy = node.startProcess(javaCommand("proxy", "--proxy-mode", "userspace",
                        "--manifests", manifests.toString(), "--hostname-override", "node-a",
                        "--iptables-min-sync-period", "100ms", "--healthz-bind-address", "",
                        "--metrics-bind-address", ""));
                try {
                    ProbeResult clusterIp = await(() -> client.tcpGet("10.96.0.10", 80, PROBE), proxy);
                    assertThat(clusterIp.serverReply().serverName()).isEqualTo("web");
                    assertThat(clusterIp.serverReply().clientIp()).as("the proxy opened the endpoint connection")
                            .isEqualTo(NODE_TO_WEB);

                    ProbeResult nodePort = await(() -> client.tcpGet(NODE_TO_CLIENT, 30080, PROBE), proxy);
                    assertThat(nodePort.serverReply().serverName()).isEqualTo("web");

                    ProbeResult udp = await(() -> client.udpGet("10.96.0.53", 53, PROBE), proxy);
                    assertThat(udp.serverReply().serverName()).isEqualTo("dns");
                    assertThat(udp.serverReply().clientIp()).isEqualTo(NODE_TO_WEB);

                    assertThat(nat(node)).contains("-j REDIRECT --to-ports", "\"default/web:http\"",
                            "-A PREROUTING -m comment --comment \"handle ClusterIPs\" -j KUBE-PORTALS-CONTAINER");
                } finally {
                    proxy.process().destroy(); // SIGTERM
                    assertThat(proxy.process().waitFor(30, TimeUnit.SECONDS)).as("stopped; log: %s", proxy.log())
                            .isTrue();
                }
                assertThat(proxy.process().exitValue()).as("128 + SIGTERM, after the shutdown hook; log: %s",
                        proxy.log()).isEqualTo(143);
                assertThat(nat(node)).as("capture chains emptied on stop").doesNotContain("-j REDIRECT");
                assertThat(client.tcpGet("10.96.0.10", 80, PROBE).isOk()).isFalse();
            }

            StringWriter err = new StringWriter();
            picocli.CommandLine cleanup = Railyard.commandLine();
            cleanup.getSubcommands().get("proxy").setErr(new PrintWriter(err));
            assertThat(cleanup.execute("proxy", "--cleanup", "--netns", node.name(), "--hostname-override", "node-a"))
                    .as("cleanup; stderr: %s", err).isZero();
            assertThat(nat(node)).doesNotContain("KUBE-PORTALS", "KUBE-NODEPORT-");
        }
    }

    /** The railyard command in a JVM of its own, with this test's classpath. */
    private static String[] javaCommand(String... args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String[] command = new String[args.length + 4];
        command[0] = java;
        command[1] = "-cp";
        command[2] = System.getProperty("java.class.path");
        command[3] = Railyard.class.getName();
        System.arraycopy(args, 0, command, 4, args.length);
        return command;
    }

    private static ProbeResult await(Supplier<ProbeResult> probe, NamespacedProcess proxy) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        ProbeResult last = null;
        while (System.nanoTime() < deadline) {
            last = probe.get();
            if (last.isOk()) {
                return last;
            }
            if (!proxy.isAlive()) {
                throw new AssertionError("the proxy exited; log: " + proxy.log());
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no answer within " + WAIT + "; last: " + last + "; log: " + proxy.log());
    }

    private static String nat(NetworkNamespace node) {
        return node.execChecked("iptables-save", "-t", "nat").stdout();
    }
}
