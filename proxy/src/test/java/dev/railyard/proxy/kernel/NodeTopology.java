package dev.railyard.proxy.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.testkit.AgentHandle;
import dev.railyard.testkit.NetworkNamespace;
import dev.railyard.testkit.ProbeResult;
import dev.railyard.testkit.SctpInit;
import dev.railyard.testkit.ServerReply;
import dev.railyard.testkit.VethLink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A node with two routed pods and an outside client, in network namespaces, for the tests that send real packets
 * through the rules a proxy mode programs:
 * <pre>
 *   client 192.0.2.2/24 ──── 192.0.2.1/24 ┐
 *   (default via the node)                │ node "node-a": forwarding on,
 *                                         │ default route via the client (its "uplink"), pods routed, not bridged
 *   pod1 10.244.1.2/24 ──── 10.244.1.1/24 ┤   pod1's endpoints: nodeName node-a (local)
 *   pod2 10.244.2.2/24 ──── 10.244.2.1/24 ┘   pod2's endpoints: nodeName node-b (remote)
 * </pre>
 * With IPv6 as well, every link also carries the addresses of {@link #V6} (dual-stack pods, client and node).
 * Each pod runs an agent serving TCP {@value #POD_TCP_PORT} and UDP {@value #POD_UDP_PORT} that answers with its
 * name and the client address it saw, and records the SCTP INITs that reach it (see {@link #sendSctpInits}). The
 * node runs an agent too, for traffic the node itself sends.
 *
 * <p>The node's default route towards the client network is what a real node has: traffic to an address the
 * node does not own (a cluster IP with no endpoints, a load-balancer IP the firewall refuses) is routed and so
 * crosses the forward hook, where the proxy's filter rules act, instead of failing the route lookup first.
 */
final class NodeTopology implements AutoCloseable {

    static final String NODE_NAME = "node-a";
    static final int POD_TCP_PORT = 8080;
    static final int POD_UDP_PORT = 5353;
    /** Pods record the SCTP INITs that reach them (raw sockets: the kernel here has no SCTP sockets). */
    static final int POD_SCTP_PORT = 3868;

    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
    /** Long enough for a SYN and its answer on a local veth; short enough to keep the DROP tests quick. */
    static final Duration DROP_PROBE_TIMEOUT = Duration.ofMillis(1500);

    /** The addresses of one family: the node, its client network, the pods, and where services live. */
    record Addresses(IpFamily family, String nodeIp, String clientIp, String clientCidr, String pod1Ip,
                     String pod1Gateway, String pod2Ip, String pod2Gateway, String clusterCidr, String serviceCidr,
                     String servicePrefix, String publicPrefix, String elsewhereCidr, String localhost,
                     int linkPrefixLength) {

        /** The service IP numbered {@code n} in the service CIDR (10.96.0.n, fd00:96::n). */
        String serviceIp(int n) {
            return servicePrefix + n;
        }

        /** An address outside the node and the cluster, for external and load-balancer IPs (203.0.113.n). */
        String publicIp(int n) {
            return publicPrefix + n;
        }

        String cidr(String ip) {
            return ip + "/" + linkPrefixLength;
        }
    }

    static final Addresses V4 = new Addresses(IpFamily.V4, "192.0.2.1", "192.0.2.2", "192.0.2.0/24",
            "10.244.1.2", "10.244.1.1", "10.244.2.2", "10.244.2.1", "10.244.0.0/16", "10.96.0.0/12",
            "10.96.0.", "203.0.113.", "198.51.100.0/24", "127.0.0.1", 24);
    static final Addresses V6 = new Addresses(IpFamily.V6, "2001:db8:2::1", "2001:db8:2::2", "2001:db8:2::/64",
            "fd00:244:0:1::2", "fd00:244:0:1::1", "fd00:244:0:2::2", "fd00:244:0:2::1", "fd00:244::/48", "fd00:96::/112",
            "fd00:96::", "2001:db8:113::", "2001:db8:51::/64", "::1", 64);

    static Addresses addresses(IpFamily family) {
        return family == IpFamily.V4 ? V4 : V6;
    }

    private final List<AutoCloseable> opened = new ArrayList<>();
    private final List<Addresses> families;
    private NetworkNamespace node;
    private AgentHandle nodeAgent;
    private AgentHandle client;
    private AgentHandle pod1;
    private AgentHandle pod2;

    private NodeTopology(List<Addresses> families) {
        this.families = List.copyOf(families);
    }

    /**
     * Builds the namespaces, links, routes and agents, and checks that plain routing works before any service is
     * involved, so that failures in the tests are about services. Nothing is left behind if it fails.
     */
    static NodeTopology create(List<Addresses> families) {
        NodeTopology topology = new NodeTopology(families);
        try {
            topology.build();
            return topology;
        } catch (RuntimeException | Error e) {
            topology.closeAfter(e);
            throw e;
        }
    }

    /** Closes the topology after {@code failure} (of its set-up), which keeps a failure to close as suppressed. */
    void closeAfter(Throwable failure) {
        try {
            close();
        } catch (RuntimeException cleanup) {
            failure.addSuppressed(cleanup);
        }
    }

    private void build() {
        node = open(NetworkNamespace::create);
        NetworkNamespace pod1Ns = open(NetworkNamespace::create);
        NetworkNamespace pod2Ns = open(NetworkNamespace::create);
        NetworkNamespace clientNs = open(NetworkNamespace::create);

        node.sysctl("net.ipv4.ip_forward", "1");
        // Hairpin traffic (pod1 -> service -> pod1) leaves by the interface it came in on; an ICMP redirect
        // would only be noise. CNI plugins that route pods turn these off too.
        node.sysctl("net.ipv4.conf.all.send_redirects", "0");
        node.sysctl("net.ipv4.conf.default.send_redirects", "0");
        if (has(IpFamily.V6)) {
            node.sysctl("net.ipv6.conf.all.forwarding", "1");
        }

        VethLink toPod1 = link(node, pod1Ns, "veth-pod1", Addresses::pod1Gateway, Addresses::pod1Ip);
        VethLink toPod2 = link(node, pod2Ns, "veth-pod2", Addresses::pod2Gateway, Addresses::pod2Ip);
        VethLink toClient = link(node, clientNs, "veth-client", Addresses::nodeIp, Addresses::clientIp);
        for (Addresses net : families) {
            toPod1.b().addRoute("default", net.pod1Gateway());
            toPod2.b().addRoute("default", net.pod2Gateway());
            toClient.b().addRoute("default", net.nodeIp());
            toClient.a().addRoute("default", net.clientIp());
        }

        pod1 = open(pod1Ns::startAgent);
        pod2 = open(pod2Ns::startAgent);
        client = open(clientNs::startAgent);
        nodeAgent = open(node::startAgent);
        pod1.tcpServe(POD_TCP_PORT, "pod1");
        pod1.udpServe(POD_UDP_PORT, "pod1");
        pod2.tcpServe(POD_TCP_PORT, "pod2");
        pod2.udpServe(POD_UDP_PORT, "pod2");
        pod1.sctpListen();
        pod2.sctpListen();

        for (Addresses net : families) {
            assertThat(firstReply(net.pod1Ip())).as("plain routing client -> pod1 over %s", net.family())
                    .isEqualTo("pod1");
            assertThat(firstReply(net.pod2Ip())).as("plain routing client -> pod2 over %s", net.family())
                    .isEqualTo("pod2");
        }
    }

    /**
     * The first exchange over fresh links also waits for neighbour resolution and the agents' start, which on a
     * busy CI machine once took longer than one probe's timeout: a few tries before the topology is called broken.
     */
    private String firstReply(String podIp) {
        ProbeResult result = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            result = client.tcpGet(podIp, POD_TCP_PORT, PROBE_TIMEOUT);
            if (result.outcome() != ProbeResult.Outcome.TIMEOUT) {
                break;
            }
        }
        return result.serverReply().serverName();
    }

    private boolean has(IpFamily family) {
        return families.stream().anyMatch(net -> net.family() == family);
    }

    private VethLink link(NetworkNamespace a, NetworkNamespace b, String nameInA,
                          Function<Addresses, String> ipInA,
                          Function<Addresses, String> ipInB) {
        VethLink.Builder builder = VethLink.between(a, b).names(nameInA, "eth0");
        for (Addresses net : families) {
            if (net.family() == IpFamily.V4) {
                builder.ipv4(net.cidr(ipInA.apply(net)), net.cidr(ipInB.apply(net)));
            } else {
                builder.ipv6(net.cidr(ipInA.apply(net)), net.cidr(ipInB.apply(net)));
            }
        }
        return builder.create();
    }

    NetworkNamespace node() {
        return node;
    }

    /** An agent in the node's own namespace, for traffic the node sends (nat output). */
    AgentHandle nodeAgent() {
        return nodeAgent;
    }

    AgentHandle client() {
        return client;
    }

    AgentHandle pod1() {
        return pod1;
    }

    AgentHandle pod2() {
        return pod2;
    }

    /** {@code count} TCP connections, grouped by the pod that answered; every one must succeed. */
    static Map<String, List<ServerReply>> connect(AgentHandle from, String ip, int port, int count) {
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

    /**
     * Sends {@code count} SCTP INITs (each a new association from a new source port) and returns those the pods
     * saw, by pod; every one must arrive at a pod. Nothing answers an INIT, so this shows where NAT sent it and
     * with which source, which is what the proxy's rules decide.
     */
    Map<String, List<SctpInit>> sendSctpInits(AgentHandle from, String ip, int port, int count)
            throws InterruptedException {
        pod1.sctpSeen();
        pod2.sctpSeen();
        for (int i = 0; i < count; i++) {
            from.sctpInit(ip, port);
        }
        Map<String, List<SctpInit>> byPod = new TreeMap<>();
        int seen = 0;
        long deadline = System.nanoTime() + PROBE_TIMEOUT.toNanos();
        while (seen < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
            for (AgentHandle pod : List.of(pod1, pod2)) {
                List<SctpInit> inits = pod.sctpSeen();
                if (!inits.isEmpty()) {
                    byPod.computeIfAbsent(pod == pod1 ? "pod1" : "pod2", k -> new ArrayList<>()).addAll(inits);
                    seen += inits.size();
                }
            }
        }
        assertThat(seen).as("SCTP INITs from %s to %s:%d that reached a pod: %s", from.namespace().name(), ip,
                port, byPod).isEqualTo(count);
        return byPod;
    }

    /** Stops the agents, then deletes the namespaces, in reverse order of creation. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = new IllegalStateException("cleanup failed", e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        opened.clear();
        if (first != null) {
            throw first;
        }
    }

    private <T extends AutoCloseable> T open(Supplier<T> opener) {
        T resource = opener.get();
        opened.add(resource);
        return resource;
    }
}
