package dev.railyard.proxy.render;

/** kube-proxy's chain names, which Railyard keeps so that rules and dashboards stay interchangeable. */
public final class Chains {
    public static final String SERVICES = "KUBE-SERVICES";
    public static final String EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES";
    public static final String NODE_PORTS = "KUBE-NODEPORTS";
    public static final String POSTROUTING = "KUBE-POSTROUTING";
    public static final String MARK_MASQ = "KUBE-MARK-MASQ";
    public static final String FORWARD = "KUBE-FORWARD";
    public static final String PROXY_FIREWALL = "KUBE-PROXY-FIREWALL";
    /** kubelet's anti-martian chain, which kube-proxy duplicates when it enables localhost NodePorts. */
    public static final String KUBELET_FIREWALL = "KUBE-FIREWALL";

    /** Per service port, for Cluster traffic policy. */
    public static final String SERVICE_PREFIX = "KUBE-SVC-";
    /** Per service port, for Local traffic policy. */
    public static final String SERVICE_LOCAL_PREFIX = "KUBE-SVL-";
    /** Per service port, for NodePort, externalIP and load-balancer traffic. */
    public static final String EXTERNAL_PREFIX = "KUBE-EXT-";
    /** Per service port, loadBalancerSourceRanges. */
    public static final String FIREWALL_PREFIX = "KUBE-FW-";
    /** Per endpoint of a service port. */
    public static final String ENDPOINT_PREFIX = "KUBE-SEP-";

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
