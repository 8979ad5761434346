package dev.railyard.proxy.kernel;

import dev.railyard.proxy.kernel.NodeTopology.Addresses;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The services the traffic tests send packets to, in one manifest set as a cluster would have them, for the
 * families of a {@link NodeTopology}: with two families every service is dual-stack (a cluster IP and an
 * EndpointSlice per family). Service {@code n} has cluster IP {@link Addresses#serviceIp serviceIp(n)}.
 */
final class TrafficServices {

    static final int WEB = 10;
    static final int NODE_PORT_SERVICE = 11;
    static final int EXTERNAL = 12;
    static final int LB_ALLOWED = 13;
    static final int LB_DENIED = 14;
    static final int STICKY = 15;
    static final int LOCAL_NODE_PORT_SERVICE = 16;
    static final int NO_ENDPOINTS = 17;
    static final int REMOTE_ONLY_LOCAL = 18;
    static final int SHORT_STICKY = 19;
    static final int DNS = 53;
    static final int ITP_LOCAL = 60;
    static final int REMOTE_ONLY_ITP_LOCAL = 61;
    static final int TERMINATING = 70;
    static final int SIGNALLING = 80;
    /** In the service CIDR, but no service has it. */
    static final int UNALLOCATED = 99;

    /** The SCTP port of the signalling service, DNATed to {@link NodeTopology#POD_SCTP_PORT}. */
    static final int SCTP_PORT = 7777;
    static final int NODE_PORT = 30080;
    static final int LOCAL_NODE_PORT = 30081;
    static final int REMOTE_ONLY_LOCAL_NODE_PORT = 30082;
    static final int NO_ENDPOINTS_NODE_PORT = 30083;
    /** Public address numbers ({@link Addresses#publicIp}) of the external IP and the load balancers. */
    static final int PUBLIC_EXTERNAL = 10;
    static final int PUBLIC_LB_ALLOWED = 20;
    static final int PUBLIC_LB_DENIED = 21;
    static final int PUBLIC_NO_ENDPOINTS = 17;
    static final int PUBLIC_NO_ENDPOINTS_LB = 27;
    static final int SHORT_STICKY_SECONDS = 2;

    private TrafficServices() {
    }

    private static final String HTTP_PORT = "- {name: http, port: " + NodeTopology.POD_TCP_PORT + ", protocol: TCP}\n";
    private static final String HTTP = "  ports: [{name: http, port: 80, protocol: TCP}]\n";

    /** One endpoint of a slice, for the given family. */
    private interface EndpointText extends Function<Addresses, String> {
    }

    private static final EndpointText POD1_READY = net -> "- addresses: [" + net.pod1Ip() + "]\n  nodeName: node-a\n";
    private static final EndpointText POD2_READY = net -> "- addresses: [" + net.pod2Ip() + "]\n  nodeName: node-b\n";
    private static final EndpointText POD1_NOT_READY = net -> "- addresses: [" + net.pod1Ip() + "]\n"
            + "  conditions: {ready: false, serving: false, terminating: false}\n  nodeName: node-a\n";
    private static final EndpointText POD2_TERMINATING = net -> "- addresses: [" + net.pod2Ip() + "]\n"
            + "  conditions: {ready: false, serving: true, terminating: true}\n  nodeName: node-b\n";

    static String manifests(List<Addresses> families) {
        Manifests m = new Manifests(families);
        m.service("web", WEB, HTTP, "", POD1_READY, POD2_READY);
        m.service("nodeport", NODE_PORT_SERVICE, "  type: NodePort\n"
                + "  ports: [{name: http, port: 80, nodePort: " + NODE_PORT + ", protocol: TCP}]\n", "",
                POD1_READY, POD2_READY);
        m.service("external", EXTERNAL, "  externalIPs: " + m.each(net -> net.publicIp(PUBLIC_EXTERNAL)) + "\n" + HTTP,
                "", POD1_READY, POD2_READY);
        m.service("lb-allowed", LB_ALLOWED, "  type: LoadBalancer\n"
                + "  loadBalancerSourceRanges: " + m.each(Addresses::clientCidr) + "\n"
                + "  ports: [{name: http, port: 80, nodePort: 30090, protocol: TCP}]\n",
                m.loadBalancer(PUBLIC_LB_ALLOWED), POD1_READY, POD2_READY);
        m.service("lb-denied", LB_DENIED, "  type: LoadBalancer\n"
                + "  loadBalancerSourceRanges: " + m.each(Addresses::elsewhereCidr) + "\n"
                + "  ports: [{name: http, port: 80, nodePort: 30091, protocol: TCP}]\n",
                m.loadBalancer(PUBLIC_LB_DENIED), POD1_READY, POD2_READY);
        m.service("sticky", STICKY, "  sessionAffinity: ClientIP\n"
                + "  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}\n" + HTTP, "", POD1_READY, POD2_READY);
        m.service("short-sticky", SHORT_STICKY, "  sessionAffinity: ClientIP\n"
                + "  sessionAffinityConfig: {clientIP: {timeoutSeconds: " + SHORT_STICKY_SECONDS + "}}\n" + HTTP, "",
                POD1_READY, POD2_READY);
        m.service("local-nodeport", LOCAL_NODE_PORT_SERVICE, "  type: NodePort\n  externalTrafficPolicy: Local\n"
                + "  ports: [{name: http, port: 80, nodePort: " + LOCAL_NODE_PORT + ", protocol: TCP}]\n", "",
                POD1_READY, POD2_READY);
        m.service("remote-only-local", REMOTE_ONLY_LOCAL, "  type: NodePort\n  externalTrafficPolicy: Local\n"
                + "  ports: [{name: http, port: 80, nodePort: " + REMOTE_ONLY_LOCAL_NODE_PORT + ", protocol: TCP}]\n",
                "", POD2_READY);
        m.service("no-endpoints", NO_ENDPOINTS, "  type: LoadBalancer\n"
                + "  externalIPs: " + m.each(net -> net.publicIp(PUBLIC_NO_ENDPOINTS)) + "\n"
                + "  ports: [{name: http, port: 80, nodePort: " + NO_ENDPOINTS_NODE_PORT + ", protocol: TCP}]\n",
                m.loadBalancer(PUBLIC_NO_ENDPOINTS_LB), POD1_NOT_READY);
        m.service("dns", DNS, "  ports: [{name: dns, port: 53, protocol: UDP}]\n", "",
                "- {name: dns, port: " + NodeTopology.POD_UDP_PORT + ", protocol: UDP}\n", POD1_READY, POD2_READY);
        m.service("node-local", ITP_LOCAL, "  internalTrafficPolicy: Local\n" + HTTP, "", POD1_READY, POD2_READY);
        m.service("remote-only-node-local", REMOTE_ONLY_ITP_LOCAL, "  internalTrafficPolicy: Local\n" + HTTP, "",
                POD2_READY);
        m.service("rolling", TERMINATING, HTTP, "", POD2_TERMINATING);
        m.service("signalling", SIGNALLING, "  ports: [{name: sig, port: " + SCTP_PORT + ", protocol: SCTP}]\n", "",
                "- {name: sig, port: " + NodeTopology.POD_SCTP_PORT + ", protocol: SCTP}\n", POD1_READY, POD2_READY);
        return m.text.toString();
    }

    /** Writes Services and their EndpointSlices for the families given. */
    private static final class Manifests {
        private final List<Addresses> families;
        private final StringBuilder text = new StringBuilder();

        Manifests(List<Addresses> families) {
            this.families = families;
        }

        /** A YAML flow list of one value per family. */
        String each(Function<Addresses, String> value) {
            return families.stream().map(value).collect(Collectors.joining(", ", "[", "]"));
        }

        String loadBalancer(int publicIp) {
            return "status:\n  loadBalancer:\n    ingress: "
                    + families.stream().map(net -> "{ip: " + net.publicIp(publicIp) + "}")
                    .collect(Collectors.joining(", ", "[", "]")) + "\n";
        }

        void service(String name, int number, String spec, String status, EndpointText... endpoints) {
            service(name, number, spec, status, HTTP_PORT, endpoints);
        }

        /**
         * {@code spec} is the indented body of {@code spec:} after the cluster IPs; {@code status} a top-level
         * {@code status:} or empty.
         */
        void service(String name, int number, String spec, String status, String slicePorts,
                     EndpointText... endpoints) {
            text.append("---\napiVersion: v1\nkind: Service\nmetadata: {name: ").append(name)
                    .append(", namespace: ns}\nspec:\n");
            if (families.size() > 1) {
                text.append("  ipFamilyPolicy: RequireDualStack\n");
            }
            text.append("  clusterIPs: ").append(each(net -> net.serviceIp(number))).append('\n')
                    .append(spec).append(status);
            for (Addresses net : families) {
                text.append("---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: ")
                        .append(name).append('-').append(net.family().kubernetesName().toLowerCase(Locale.ROOT))
                        .append("\n  namespace: ns\n  labels:\n    kubernetes.io/service-name: ").append(name)
                        .append("\naddressType: ").append(net.family().kubernetesName()).append("\nendpoints:\n");
                for (EndpointText endpoint : endpoints) {
                    text.append(endpoint.apply(net));
                }
                text.append("ports:\n").append(slicePorts);
            }
        }
    }
}
