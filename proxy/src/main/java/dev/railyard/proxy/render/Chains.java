package dev.railyard.proxy.render;

import dev.railyard.proxy.model.Endpoint;

/** kube-proxy's chain names, which Railyard keeps so that rules and dashboards stay interchangeable. */
public final class Chains {
    public static final String SERVICES = "KUBE-SERVICES";
    public static final String EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES";
    public static final String NODE_PORTS = "KUBE-NODEPORTS";
    public static final String POSTROUTING = "KUBE-POSTROUTING";
    public static final String MARK_MASQ = "KUBE-MARK-MASQ";
    public static final String FORWARD = "KUBE-FORWARD";
    public static final String PROXY_FIREWALL = "KUBE-PROXY-FIREWALL";
    /** kube-proxy's canary: an empty chain in mangle, nat and filter whose loss means the tables were flushed. */
    public static final String PROXY_CANARY = "KUBE-PROXY-CANARY";
    /** kubelet's anti-martian chain, which kube-proxy duplicates when it enables localhost NodePorts. */
    public static final String KUBELET_FIREWALL = "KUBE-FIREWALL";

    /** Userspace mode: traffic to service addresses arriving from elsewhere (PREROUTING), redirected to the proxy. */
    public static final String PORTALS_CONTAINER = "KUBE-PORTALS-CONTAINER";
    /** Userspace mode: traffic to service addresses from this host's own processes (OUTPUT). */
    public static final String PORTALS_HOST = "KUBE-PORTALS-HOST";
    /** Userspace mode: NodePort traffic arriving from elsewhere. */
    public static final String NODEPORT_CONTAINER = "KUBE-NODEPORT-CONTAINER";
    /** Userspace mode: NodePort traffic from this host's own processes. */
    public static final String NODEPORT_HOST = "KUBE-NODEPORT-HOST";

    /** Per service port, for Cluster traffic policy. */
    public static final String SERVICE_PREFIX = "KUBE-SVC-";
    /** Per service port, for Local traffic policy. */
    public static final String SERVICE_LOCAL_PREFIX = "KUBE-SVL-";
    /** Per service port, for NodePort, externalIP and load-balancer traffic. */
    public static final String EXTERNAL_PREFIX = "KUBE-EXT-";
    /** Per service port, loadBalancerSourceRanges. */
    public static final String FIREWALL_PREFIX = "KUBE-FW-";
    /** Per endpoint of a service port. */
    public static final String ENDPOINT_PREFIX = Endpoint.CHAIN_PREFIX;

    private static final String[] SERVICE_CHAIN_PREFIXES = {
        SERVICE_PREFIX, SERVICE_LOCAL_PREFIX, EXTERNAL_PREFIX, FIREWALL_PREFIX, ENDPOINT_PREFIX
    };

    private Chains() {
    }

    /** A per-service or per-endpoint chain: ours to delete when no service needs it any more. */
    public static boolean isServiceChain(String chain) {
        for (String prefix : SERVICE_CHAIN_PREFIXES) {
            if (chain.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}
