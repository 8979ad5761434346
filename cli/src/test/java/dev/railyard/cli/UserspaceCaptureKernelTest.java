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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code railyard proxy --proxy-mode userspace} as root on a node: the command runs inside the node's network
 * namespace (its listeners must be where the REDIRECT rules point), and a pod's traffic to a cluster IP, to a
 * NodePort and to a UDP service is captured into the proxy, which relays it to the endpoint pod. The endpoint
 * sees the node as the client: the proof that the proxy, not a DNAT rule, carried the connection. SIGTERM
 * empties the capture chains; --cleanup removes them and their jump rules. The same over IPv6 with
 * {@code --bind-address ::}; a specific bind address reached through DNAT; and load-balancer traffic admitted
 * only from spec.loadBalancerSourceRanges.
 *
 * <pre>
 *   client 10.244.2.2/24 ─── 10.244.2.1 ┐ node "node-a": railyard proxy --proxy-mode userspace
 *          (and .3)                      │
 *   web    10.244.1.2/24 ─── 10.244.1.1 ┘
 *   (fd00:244:2::2/64 and fd00:244:1::2/64 over IPv6, the node ::1 on each link)
 * </pre>
 */
@RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "iptables", "ip"})
class UserspaceCaptureKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration PROBE = Duration.ofSeconds(2);
    private static final String WEB_POD = "10.244.1.2";
    private static final String NODE_TO_WEB = "10.244.1.1";
    private static final String NODE_TO_CLIENT = "10.244.2.1";
    private static final String LB_IP = "192.0.2.100";
    private static final Pattern COUNTER = Pattern.compile("^\\[(\\d+):\\d+\\] -A INPUT .*");

    /** A TCP NodePort service and a UDP service, both served by the web pod. */
    private static final String WEB_AND_DNS = String.join("---\n",
            serviceAndSlice("default", "web", """
                    spec: {type: NodePort, clusterIP: 10.96.0.10,
                           ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: 30080}]}
                    """, "http", "TCP", 8080, WEB_POD),
            serviceAndSlice("kube-system", "dns", """
                    spec: {clusterIP: 10.96.0.53, ports: [{name: dns, protocol: UDP, port: 53, targetPort: 5353}]}
                    """, "dns", "UDP", 5353, WEB_POD));

    @TempDir
    Path manifests;

    @Test
    void capturesClusterIpNodePortAndUdpTrafficIntoTheProxy() throws Exception {
        Files.writeString(manifests.resolve("services.yaml"), WEB_AND_DNS);
        try (NetworkNamespace node = NetworkNamespace.create();
             NetworkNamespace webNs = NetworkNamespace.create();
             NetworkNamespace clientNs = NetworkNamespace.create()) {
            linkIpv4(node, webNs, clientNs);

            try (AgentHandle web = webNs.startAgent(); AgentHandle client = clientNs.startAgent()) {
                web.tcpServe(8080, "web");
                web.udpServe(5353, "dns");
                NamespacedProcess proxy = node.startProcess(userspaceProxy());
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
                    stop(proxy);
                }
                assertThat(nat(node)).as("capture chains emptied on stop").doesNotContain("-j REDIRECT");
                assertThat(client.tcpGet("10.96.0.10", 80, PROBE).isOk()).isFalse();
            }

            cleanup(node);
            assertThat(nat(node)).doesNotContain("KUBE-PORTALS", "KUBE-NODEPORT-");
        }
    }

    /**
     * With a specific --bind-address the listeners sit on that address only, and REDIRECT would send traffic to
     * the primary address of the interface it arrived on: here the client's link (10.244.2.1), where nothing
     * listens. The rules DNAT to the bind address instead, for pods and for the node's own processes.
     */
    @Test
    void specificBindAddressIsReachedThroughDnat() throws Exception {
        Files.writeString(manifests.resolve("services.yaml"), WEB_AND_DNS);
        try (NetworkNamespace node = NetworkNamespace.create();
             NetworkNamespace webNs = NetworkNamespace.create();
             NetworkNamespace clientNs = NetworkNamespace.create()) {
            linkIpv4(node, webNs, clientNs);
            // A node routes the service range somewhere (its default route); without a route the node's own
            // connections would fail before the OUTPUT chain sees them.
            node.execChecked("ip", "route", "add", "10.96.0.0/12", "dev", "veth-client");

            try (AgentHandle web = webNs.startAgent(); AgentHandle client = clientNs.startAgent();
                 AgentHandle onNode = node.startAgent()) {
                web.tcpServe(8080, "web");
                web.udpServe(5353, "dns");
                NamespacedProcess proxy = node.startProcess(userspaceProxy("--bind-address", NODE_TO_WEB));
                try {
                    ProbeResult clusterIp = await(() -> client.tcpGet("10.96.0.10", 80, PROBE), proxy);
                    assertThat(clusterIp.serverReply().serverName()).isEqualTo("web");
                    assertThat(clusterIp.serverReply().clientIp()).isEqualTo(NODE_TO_WEB);

                    ProbeResult nodePort = await(() -> client.tcpGet(NODE_TO_CLIENT, 30080, PROBE), proxy);
                    assertThat(nodePort.serverReply().serverName()).isEqualTo("web");

                    ProbeResult udp = await(() -> client.udpGet("10.96.0.53", 53, PROBE), proxy);
                    assertThat(udp.serverReply().serverName()).as("the reply came back from the service address")
                            .isEqualTo("dns");

                    ProbeResult fromNode = await(() -> onNode.tcpGet("10.96.0.10", 80, PROBE), proxy);
                    assertThat(fromNode.serverReply().serverName()).isEqualTo("web");

                    assertThat(nat(node)).contains("-j DNAT --to-destination " + NODE_TO_WEB + ":")
                            .doesNotContain("-j REDIRECT");
                } finally {
                    stop(proxy);
                }
                assertThat(nat(node)).as("capture chains emptied on stop").doesNotContain("-j DNAT");
            }
        }
    }

    @Test
    void loadBalancerTrafficIsAdmittedOnlyFromTheSourceRanges() throws Exception {
        Files.writeString(manifests.resolve("services.yaml"), String.join("---\n",
                serviceAndSlice("default", "web", """
                        spec: {type: LoadBalancer, clusterIP: 10.96.0.20, loadBalancerSourceRanges: [10.244.2.2/32],
                               ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: 30081}]}
                        status: {loadBalancer: {ingress: [{ip: 192.0.2.100}]}}
                        """, "http", "TCP", 8080, WEB_POD),
                serviceAndSlice("default", "dns", """
                        spec: {type: LoadBalancer, clusterIP: 10.96.0.54, loadBalancerSourceRanges: [10.244.2.2/32],
                               ports: [{name: dns, protocol: UDP, port: 53, targetPort: 5353, nodePort: 30053}]}
                        status: {loadBalancer: {ingress: [{ip: 192.0.2.100}]}}
                        """, "dns", "UDP", 5353, WEB_POD)));
        String allowed = "10.244.2.2";
        String denied = "10.244.2.3";
        try (NetworkNamespace node = NetworkNamespace.create();
             NetworkNamespace webNs = NetworkNamespace.create();
             NetworkNamespace clientNs = NetworkNamespace.create()) {
            linkIpv4(node, webNs, clientNs).b().addAddress(denied + "/24");
            // Counters in the endpoint pod: every connection or datagram the proxy relays arrives there.
            webNs.execChecked("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "8080", "--syn", "-j", "ACCEPT");
            webNs.execChecked("iptables", "-A", "INPUT", "-p", "udp", "--dport", "5353", "-j", "ACCEPT");

            try (AgentHandle web = webNs.startAgent(); AgentHandle client = clientNs.startAgent()) {
                web.tcpServe(8080, "web");
                web.udpServe(5353, "dns");
                NamespacedProcess proxy = node.startProcess(userspaceProxy());
                try {
                    ProbeResult fromAllowed = await(() -> client.tcpGet(LB_IP, 80, PROBE, allowed), proxy);
                    assertThat(fromAllowed.serverReply().serverName()).isEqualTo("web");
                    ProbeResult udpAllowed = await(() -> client.udpGet(LB_IP, 53, PROBE, allowed), proxy);
                    assertThat(udpAllowed.serverReply().serverName()).isEqualTo("dns");
                    long syns = packets(webNs, "--dport 8080");
                    long datagrams = packets(webNs, "--dport 5353");

                    ProbeResult fromDenied = client.tcpGet(LB_IP, 80, PROBE, denied);
                    assertThat(fromDenied.outcome()).as("reset at once, not left to time out: %s", fromDenied)
                            .isEqualTo(ProbeResult.Outcome.ERROR);
                    assertThat(fromDenied.detail()).contains("reset");
                    ProbeResult udpDenied = client.udpGet(LB_IP, 53, PROBE, denied);
                    assertThat(udpDenied.outcome()).as("dropped: %s", udpDenied).isEqualTo(ProbeResult.Outcome.TIMEOUT);
                    assertThat(packets(webNs, "--dport 8080")).as("no connection reached the endpoint")
                            .isEqualTo(syns);
                    assertThat(packets(webNs, "--dport 5353")).as("no datagram reached the endpoint")
                            .isEqualTo(datagrams);

                    // Node ports and cluster IPs are not subject to the ranges, as in kube-proxy.
                    ProbeResult nodePort = client.tcpGet(NODE_TO_CLIENT, 30081, PROBE, denied);
                    assertThat(nodePort.isOk()).as("NodePort from outside the ranges: %s", nodePort).isTrue();
                    ProbeResult clusterIp = client.tcpGet("10.96.0.20", 80, PROBE, denied);
                    assertThat(clusterIp.isOk()).as("cluster IP from outside the ranges: %s", clusterIp).isTrue();
                    ProbeResult udpNodePort = client.udpGet(NODE_TO_CLIENT, 30053, PROBE, denied);
                    assertThat(udpNodePort.isOk()).as("UDP NodePort from outside the ranges: %s", udpNodePort)
                            .isTrue();

                    String nat = nat(node);
                    assertThat(nat).as("every source is redirected; the proxy filters")
                            .contains("-d 192.0.2.100/32 -p tcp -m comment --comment \"default/web:http\"")
                            .doesNotContain("-s 10.244.2.2");
                    assertThat(redirectPort(nat, "-d 192.0.2.100/32 -p tcp"))
                            .as("load-balancer traffic has a listener of its own")
                            .isNotEqualTo(redirectPort(nat, "-m tcp --dport 30081"));
                } finally {
                    stop(proxy);
                }
            }
        }
    }

    /**
     * IPv6 is captured when the bind address is IPv6 (kube-proxy's rule) and, with the default 0.0.0.0, when
     * the node is dual-stack: either way the IPv6 listeners sit on ::.
     */
    @ParameterizedTest
    @ValueSource(strings = {"--bind-address=::", "--node-ip=10.244.2.1,fd00:244:2::1"})
    @RequiresPrivileges(commands = {"iptables-restore", "iptables-save", "iptables", "ip6tables-restore",
            "ip6tables-save", "ip6tables", "ip"})
    void capturesIpv6ClusterIpNodePortAndUdpTraffic(String ipv6Flag) throws Exception {
        Files.writeString(manifests.resolve("services.yaml"), String.join("---\n",
                serviceAndSlice("default", "web", """
                        spec: {type: NodePort, clusterIP: "fd00:96::10", clusterIPs: ["fd00:96::10"],
                               ipFamilies: [IPv6],
                               ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: 30080}]}
                        """, "http", "TCP", 8080, "fd00:244:1::2"),
                serviceAndSlice("kube-system", "dns", """
                        spec: {clusterIP: "fd00:96::53", clusterIPs: ["fd00:96::53"], ipFamilies: [IPv6],
                               ports: [{name: dns, protocol: UDP, port: 53, targetPort: 5353}]}
                        """, "dns", "UDP", 5353, "fd00:244:1::2")));
        try (NetworkNamespace node = NetworkNamespace.create();
             NetworkNamespace webNs = NetworkNamespace.create();
             NetworkNamespace clientNs = NetworkNamespace.create()) {
            VethLink.between(node, webNs).names("veth-web", "eth0").ipv6("fd00:244:1::1/64", "fd00:244:1::2/64")
                    .create().b().addRoute("default", "fd00:244:1::1");
            VethLink.between(node, clientNs).names("veth-client", "eth0")
                    .ipv6("fd00:244:2::1/64", "fd00:244:2::2/64").create().b().addRoute("default", "fd00:244:2::1");

            try (AgentHandle web = webNs.startAgent(); AgentHandle client = clientNs.startAgent()) {
                web.tcpServe("::", 8080, "web");
                web.udpServe("::", 5353, "dns");
                NamespacedProcess proxy = node.startProcess(userspaceProxy(ipv6Flag));
                try {
                    ProbeResult clusterIp = await(() -> client.tcpGet("fd00:96::10", 80, PROBE), proxy);
                    assertThat(clusterIp.serverReply().serverName()).isEqualTo("web");
                    assertThat(clusterIp.serverReply().clientIp()).as("the proxy opened the endpoint connection")
                            .isEqualTo("fd00:244:1::1");

                    ProbeResult nodePort = await(() -> client.tcpGet("fd00:244:2::1", 30080, PROBE), proxy);
                    assertThat(nodePort.serverReply().serverName()).isEqualTo("web");

                    ProbeResult udp = await(() -> client.udpGet("fd00:96::53", 53, PROBE), proxy);
                    assertThat(udp.serverReply().serverName()).isEqualTo("dns");
                    assertThat(udp.serverReply().clientIp()).isEqualTo("fd00:244:1::1");

                    assertThat(nat6(node)).contains("-d fd00:96::10/128", "-j REDIRECT --to-ports",
                            "-A PREROUTING -m comment --comment \"handle ClusterIPs\" -j KUBE-PORTALS-CONTAINER",
                            "-j KUBE-NODEPORT-CONTAINER");
                } finally {
                    stop(proxy);
                }
                assertThat(nat6(node)).as("IPv6 capture chains emptied on stop").doesNotContain("-j REDIRECT");
                assertThat(client.tcpGet("fd00:96::10", 80, PROBE).isOk()).isFalse();
            }

            cleanup(node);
            assertThat(nat6(node)).doesNotContain("KUBE-PORTALS", "KUBE-NODEPORT-");
            assertThat(nat(node)).doesNotContain("KUBE-PORTALS", "KUBE-NODEPORT-");
        }
    }

    /**
     * The web pod and the client pod (10.244.2.2), each on a link of its own to the node (see the class comment):
     * the client's link.
     */
    private static VethLink linkIpv4(NetworkNamespace node, NetworkNamespace webNs, NetworkNamespace clientNs) {
        VethLink.between(node, webNs).names("veth-web", "eth0").ipv4(NODE_TO_WEB + "/24", WEB_POD + "/24")
                .create().b().addRoute("default", NODE_TO_WEB);
        VethLink toClient = VethLink.between(node, clientNs).names("veth-client", "eth0")
                .ipv4(NODE_TO_CLIENT + "/24", "10.244.2.2/24").create();
        toClient.b().addRoute("default", NODE_TO_CLIENT);
        return toClient;
    }

    /**
     * A Service and its EndpointSlice, as a manifest: {@code fields} are the Service's spec (and status), its one
     * port named {@code port}, which the slice serves on {@code endpoint} at {@code podPort}.
     */
    private static String serviceAndSlice(String namespace, String name, String fields, String port, String protocol,
                                          int podPort, String endpoint) {
        return """
                apiVersion: v1
                kind: Service
                metadata: {name: %1$s, namespace: %2$s}
                %3$s---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata: {name: %1$s-1, namespace: %2$s, labels: {kubernetes.io/service-name: %1$s}}
                addressType: %4$s
                ports: [{name: %5$s, protocol: %6$s, port: %7$d}]
                endpoints: [{addresses: ["%8$s"], conditions: {ready: true}}]
                """.formatted(name, namespace, fields, endpoint.contains(":") ? "IPv6" : "IPv4", port, protocol,
                podPort, endpoint);
    }

    private String[] userspaceProxy(String... extra) {
        List<String> args = new ArrayList<>(List.of("proxy", "--proxy-mode", "userspace",
                "--manifests", manifests.toString(), "--hostname-override", "node-a",
                "--iptables-min-sync-period", "100ms", "--healthz-bind-address", "", "--metrics-bind-address", ""));
        args.addAll(List.of(extra));
        return javaCommand(args.toArray(String[]::new));
    }

    /** SIGTERM, then the exit status a stop by signal has. */
    private static void stop(NamespacedProcess proxy) throws InterruptedException {
        proxy.process().destroy();
        assertThat(proxy.process().waitFor(30, TimeUnit.SECONDS)).as("stopped; log: %s", proxy.log()).isTrue();
        assertThat(proxy.process().exitValue()).as("128 + SIGTERM, after the shutdown hook; log: %s", proxy.log())
                .isEqualTo(143);
    }

    /** {@code railyard proxy --cleanup} for the node, which must succeed. */
    private static void cleanup(NetworkNamespace node) {
        StringWriter err = new StringWriter();
        picocli.CommandLine cleanup = Railyard.commandLine();
        cleanup.getSubcommands().get("proxy").setErr(new PrintWriter(err));
        assertThat(cleanup.execute("proxy", "--cleanup", "--netns", node.name(), "--hostname-override", "node-a"))
                .as("cleanup; stderr: %s", err).isZero();
    }

    /** Packets counted by the INPUT rule whose text contains {@code match} (iptables-save -c). */
    private static long packets(NetworkNamespace namespace, String match) {
        for (String line : namespace.execChecked("iptables-save", "-c", "-t", "filter").stdout().split("\n")) {
            Matcher counter = COUNTER.matcher(line);
            if (counter.matches() && line.contains(match)) {
                return Long.parseLong(counter.group(1));
            }
        }
        throw new AssertionError("no INPUT rule with " + match);
    }

    /** The --to-ports of the first REDIRECT rule whose text contains {@code match}. */
    private static String redirectPort(String nat, String match) {
        for (String line : nat.split("\n")) {
            if (line.contains(match) && line.contains("--to-ports ")) {
                return line.substring(line.indexOf("--to-ports ") + "--to-ports ".length()).trim();
            }
        }
        throw new AssertionError("no REDIRECT rule with " + match + " in:\n" + nat);
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

    private static String nat6(NetworkNamespace node) {
        return node.execChecked("ip6tables-save", "-t", "nat").stdout();
    }
}
