package dev.railyard.benchmarks;

import dev.railyard.proxy.model.Cidr;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.Protocol;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.RenderConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Deterministic synthetic IPv4 clusters for render and apply benchmarks: the same seed and size always give
 * the same {@link ProxyState}, so figures from different runs and machines describe the same ruleset.
 *
 * <p>Shape of a cluster of N services (shares are per service, drawn from the seeded generator):
 * <ul>
 *   <li>{@value #NAMESPACES} namespaces, services spread uniformly over them;</li>
 *   <li>{@value #TWO_PORT_PERCENT}% of services have two ports (http + metrics, or dns over udp + tcp), so
 *       N services give about 1.2 N service ports;</li>
 *   <li>type mix: {@value #NODE_PORT_PERCENT}% NodePort, {@value #LOAD_BALANCER_PERCENT}% LoadBalancer (one
 *       VIP each), the rest ClusterIP; {@value #EXTERNAL_IP_PERCENT}% of ClusterIP services also carry an
 *       externalIP;</li>
 *   <li>externalTrafficPolicy Local on {@value #ETP_LOCAL_PERCENT}% of NodePort/LoadBalancer services (with a
 *       health check node port), internalTrafficPolicy Local on {@value #ITP_LOCAL_PERCENT}% of services,
 *       ClientIP session affinity on {@value #AFFINITY_PERCENT}%, loadBalancerSourceRanges on a third of the
 *       LoadBalancers (half of those ranges contain the node IP);</li>
 *   <li>{@value #ENDPOINTS_PER_SERVICE} endpoints (pods) per service, shared by all its ports, each on one of
 *       {@value #NODES} nodes {@code node-a} .. {@code node-t} ({@code node-a} is the node being rendered);
 *       1% of them are terminating (serving, not ready). So N services have 10 N endpoint addresses and about
 *       12 N (service port, endpoint) pairs, i.e. KUBE-SEP chains.</li>
 * </ul>
 * Cluster IPs are allocated sequentially from 10.96.0.0/12, pod IPs from each node's slice of 10.244.0.0/16
 * (twelve /24s per node, reused round-robin: a pod IP may back several services, which is harmless because
 * KUBE-SEP chain names include the service port), node ports sequentially from 30000 (beyond 32767 for very
 * large clusters, as with a widened --service-node-port-range).
 */
public final class ClusterGenerator {
    public static final long DEFAULT_SEED = 20261123L;
    public static final int NAMESPACES = 40;
    public static final int NODES = 20;
    public static final int ENDPOINTS_PER_SERVICE = 10;
    public static final int TWO_PORT_PERCENT = 20;
    public static final int NODE_PORT_PERCENT = 12;
    public static final int LOAD_BALANCER_PERCENT = 5;
    public static final int EXTERNAL_IP_PERCENT = 1;
    public static final int ETP_LOCAL_PERCENT = 25;
    public static final int ITP_LOCAL_PERCENT = 1;
    public static final int AFFINITY_PERCENT = 5;
    public static final int UDP_PERCENT = 3;
    public static final int TERMINATING_PERMILLE = 10;

    public static final String NODE_NAME = "node-a";
    public static final String NODE_IP = "192.0.2.1";
    public static final String CLUSTER_CIDR = "10.244.0.0/16";

    private static final String[] NAMESPACE_WORDS = {
        "payments", "checkout", "catalog", "search", "identity", "billing", "ads", "media", "chat", "ml",
    };
    private static final Cidr[] SOURCE_RANGES_WITH_NODE = {Cidr.parse("192.0.2.0/24"), Cidr.parse("198.51.100.0/24")};
    private static final Cidr[] SOURCE_RANGES_WITHOUT_NODE = {Cidr.parse("203.0.113.0/24")};

    /** The generated cluster plus the counts a report needs. */
    public record Cluster(int services, ProxyState state, int servicePorts, int endpointAddresses,
                          int endpointEntries, int nodePortServices, int loadBalancerServices,
                          int externalIpServices, int externalPolicyLocalServices, int affinityServices,
                          int sourceRangeServices, int localEndpointAddresses) {
        public String describe() {
            return String.format(
                    "%,d services -> %,d service ports, %,d endpoint addresses (%,d on %s), %,d (port, endpoint) pairs;"
                            + " NodePort %,d, LoadBalancer %,d (source ranges %,d), externalIP %,d, eTP=Local %,d,"
                            + " ClientIP affinity %,d",
                    services, servicePorts, endpointAddresses, localEndpointAddresses, NODE_NAME, endpointEntries,
                    nodePortServices, loadBalancerServices, sourceRangeServices, externalIpServices,
                    externalPolicyLocalServices, affinityServices);
        }
    }

    private ClusterGenerator() {
    }

    /** The render config every benchmark uses: node-a, 192.0.2.1, pod CIDR 10.244.0.0/16, defaults otherwise. */
    public static RenderConfig renderConfig() {
        return RenderConfig.builder(IpFamily.V4).nodeName(NODE_NAME).nodeIps(List.of(NODE_IP))
                .clusterCidrs(List.of(CLUSTER_CIDR)).build();
    }

    /** nftables mode's settings for the same node: NodePorts on the primary address, the service CIDR known. */
    public static RenderConfig nftablesRenderConfig() {
        return RenderConfig.builder(IpFamily.V4).nodeName(NODE_NAME).nodeIps(List.of(NODE_IP))
                .clusterCidrs(List.of(CLUSTER_CIDR)).nodePortAddresses(List.of("primary"))
                .serviceCidrs(List.of("10.96.0.0/12")).build();
    }

    /** A state and the same state with one endpoint of one service replaced, as a partial sync sees them. */
    public record Replacement(ProxyState before, ProxyState after, String serviceKey) {
    }

    /**
     * {@code original} and, as the change tracker hands it over, the same state with the first endpoint of the
     * middle service port replaced by a new pod: every other service port and endpoint list the same objects.
     */
    public static Replacement withOneEndpointReplaced(ProxyState original) {
        ServicePort target = original.entries().get(original.entries().size() / 2).service();
        List<ServicePort> ports = new ArrayList<>();
        Map<ServicePortName, List<Endpoint>> replaced = new HashMap<>();
        for (ProxyState.Entry entry : original.entries()) {
            ports.add(entry.service());
            List<Endpoint> endpoints = entry.endpoints();
            if (entry.service() == target) {
                endpoints = new ArrayList<>(endpoints);
                Endpoint gone = endpoints.remove(0);
                endpoints.add(Endpoint.builder(target.name(), "10.245.0.1", gone.port()).nodeName(gone.nodeName())
                        .build());
            }
            replaced.put(entry.service().name(), endpoints);
        }
        return new Replacement(original, ProxyState.of(original.family(), ports, replaced),
                target.name().serviceKey());
    }

    public static Cluster generate(int services) {
        return generate(services, DEFAULT_SEED);
    }

    public static Cluster generate(int services, long seed) {
        if (services < 1 || services > 1 << 20) {
            throw new IllegalArgumentException("services must be within 1-1048576, not " + services);
        }
        SplittableRandom random = new SplittableRandom(seed);
        List<ServicePort> ports = new ArrayList<>(services * 6 / 5 + 1);
        Map<ServicePortName, List<Endpoint>> endpoints = new HashMap<>();
        int[] podCounterPerNode = new int[NODES];
        int nextNodePort = 30000;
        int nodePortServices = 0;
        int loadBalancerServices = 0;
        int externalIpServices = 0;
        int etpLocalServices = 0;
        int affinityServices = 0;
        int sourceRangeServices = 0;
        int endpointAddresses = 0;
        int endpointEntries = 0;
        int localAddresses = 0;

        for (int s = 0; s < services; s++) {
            String namespace = NAMESPACE_WORDS[s % NAMESPACE_WORDS.length] + "-" + (s % NAMESPACES) / NAMESPACE_WORDS.length;
            String name = "svc-" + Integer.toString(s, 36) + "-" + (char) ('a' + random.nextInt(26));
            String clusterIp = ipv4(10 << 24 | 96 << 16, s + 10);

            int typeRoll = random.nextInt(100);
            boolean loadBalancer = typeRoll < LOAD_BALANCER_PERCENT;
            boolean nodePort = loadBalancer || typeRoll < LOAD_BALANCER_PERCENT + NODE_PORT_PERCENT;
            boolean externalIp = !nodePort && random.nextInt(100) < EXTERNAL_IP_PERCENT;
            boolean etpLocal = nodePort && random.nextInt(100) < ETP_LOCAL_PERCENT;
            boolean itpLocal = random.nextInt(100) < ITP_LOCAL_PERCENT;
            boolean affinity = random.nextInt(100) < AFFINITY_PERCENT;
            boolean sourceRanges = loadBalancer && random.nextInt(3) == 0;
            boolean twoPorts = random.nextInt(100) < TWO_PORT_PERCENT;
            boolean dns = twoPorts && random.nextInt(100) < UDP_PERCENT * 5;
            boolean udp = !twoPorts && random.nextInt(100) < UDP_PERCENT;
            int healthCheckNodePort = etpLocal ? nextNodePort++ : 0;

            List<String> lbIps = loadBalancer ? List.of(ipv4(198 << 24 | 18 << 16, loadBalancerServices + 1)) : List.of();
            List<Cidr> ranges = !sourceRanges ? List.of()
                    : random.nextBoolean() ? List.of(SOURCE_RANGES_WITH_NODE) : List.of(SOURCE_RANGES_WITHOUT_NODE);
            List<String> externalIps = externalIp ? List.of(ipv4(203 << 24 | 0 << 16 | 113 << 8, externalIpServices % 250 + 1))
                    : List.of();

            // port name, protocol, service port, target port
            List<Object[]> specs = new ArrayList<>(2);
            if (dns) {
                specs.add(new Object[] {"dns", Protocol.UDP, 53, 5353});
                specs.add(new Object[] {"dns-tcp", Protocol.TCP, 53, 5353});
            } else if (twoPorts) {
                specs.add(new Object[] {"http", Protocol.TCP, 80, 8080});
                specs.add(new Object[] {"metrics", Protocol.TCP, 9090, 9090});
            } else {
                int port = random.nextInt(4) == 0 ? 443 : 80;
                specs.add(new Object[] {random.nextBoolean() ? "" : "http", udp ? Protocol.UDP : Protocol.TCP, port,
                        port == 443 ? 8443 : 8080});
            }

            // The service's pods: one node each, a pod IP from that node's slice of the pod CIDR.
            String[] podIps = new String[ENDPOINTS_PER_SERVICE];
            String[] podNodes = new String[ENDPOINTS_PER_SERVICE];
            boolean[] terminating = new boolean[ENDPOINTS_PER_SERVICE];
            for (int e = 0; e < ENDPOINTS_PER_SERVICE; e++) {
                int node = random.nextInt(NODES);
                int n = podCounterPerNode[node]++ % (12 * 254);
                podIps[e] = ipv4(10 << 24 | 244 << 16 | (node * 12 + n / 254) << 8, n % 254 + 1);
                podNodes[e] = "node-" + (char) ('a' + node);
                terminating[e] = random.nextInt(1000) < TERMINATING_PERMILLE;
                if (node == 0) {
                    localAddresses++;
                }
            }
            endpointAddresses += ENDPOINTS_PER_SERVICE;

            for (Object[] spec : specs) {
                ServicePortName portName = ServicePortName.of(namespace, name, (String) spec[0], (Protocol) spec[1]);
                ServicePort.Builder builder = ServicePort.builder(portName, clusterIp, (Integer) spec[2]);
                if (nodePort) {
                    builder.nodePort(nextNodePort++);
                }
                builder.loadBalancerIps(lbIps).loadBalancerSourceRanges(ranges).externalIps(externalIps)
                        .internalPolicyLocal(itpLocal);
                if (etpLocal) {
                    builder.externalPolicyLocal(true).healthCheckNodePort(healthCheckNodePort);
                }
                if (affinity) {
                    builder.clientIpAffinity(ServicePort.DEFAULT_AFFINITY_TIMEOUT_SECONDS);
                }
                ports.add(builder.build());

                List<Endpoint> list = new ArrayList<>(ENDPOINTS_PER_SERVICE);
                for (int e = 0; e < ENDPOINTS_PER_SERVICE; e++) {
                    list.add(Endpoint.builder(portName, podIps[e], (Integer) spec[3]).nodeName(podNodes[e])
                            .ready(!terminating[e]).serving(true).terminating(terminating[e]).build());
                }
                endpoints.put(portName, list);
                endpointEntries += list.size();
            }
            nodePortServices += nodePort && !loadBalancer ? 1 : 0;
            loadBalancerServices += loadBalancer ? 1 : 0;
            externalIpServices += externalIp ? 1 : 0;
            etpLocalServices += etpLocal ? 1 : 0;
            affinityServices += affinity ? 1 : 0;
            sourceRangeServices += sourceRanges ? 1 : 0;
        }
        ProxyState state = ProxyState.of(IpFamily.V4, ports, endpoints);
        return new Cluster(services, state, ports.size(), endpointAddresses, endpointEntries, nodePortServices,
                loadBalancerServices, externalIpServices, etpLocalServices, affinityServices, sourceRangeServices,
                localAddresses);
    }

    /** Dotted quad of base + offset. */
    static String ipv4(int base, int offset) {
        int v = base + offset;
        return (v >>> 24) + "." + ((v >>> 16) & 255) + "." + ((v >>> 8) & 255) + "." + (v & 255);
    }
}
