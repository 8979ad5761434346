package dev.railyard.proxy.model;

import java.util.List;
import java.util.Objects;

/**
 * Everything the proxy needs to know about one port of one Service in one IP family. Addresses are canonical
 * text, already filtered to this family. Immutable.
 */
public final class ServicePort {
    /** The API server's default for sessionAffinityConfig.clientIP.timeoutSeconds. */
    public static final int DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

    private final ServicePortName name;
    private final String clusterIp;
    private final int port;
    private final int nodePort;
    private final List<String> externalIps;
    private final List<String> loadBalancerIps;
    private final List<Cidr> loadBalancerSourceRanges;
    private final boolean clientIpAffinity;
    private final int affinityTimeoutSeconds;
    private final boolean externalPolicyLocal;
    private final boolean internalPolicyLocal;
    private final int healthCheckNodePort;

    private ServicePort(Builder b) {
        this.name = Objects.requireNonNull(b.name, "name");
        this.clusterIp = Objects.requireNonNull(b.clusterIp, "clusterIp");
        this.port = requirePort(b.port, "port", false);
        this.nodePort = requirePort(b.nodePort, "nodePort", true);
        this.externalIps = List.copyOf(b.externalIps);
        this.loadBalancerIps = List.copyOf(b.loadBalancerIps);
        this.loadBalancerSourceRanges = List.copyOf(b.loadBalancerSourceRanges);
        if (!loadBalancerSourceRanges.isEmpty()) {
            IpFamily family = IpAddresses.familyOf(IpAddresses.parse(clusterIp));
            for (int i = 0; i < loadBalancerSourceRanges.size(); i++) {
                if (loadBalancerSourceRanges.get(i).family() != family) {
                    throw new IllegalArgumentException(name + ": loadBalancerSourceRanges[" + i + "] "
                            + loadBalancerSourceRanges.get(i) + " is not of the cluster IP's family");
                }
            }
        }
        this.clientIpAffinity = b.clientIpAffinity;
        if (b.clientIpAffinity && (b.affinityTimeoutSeconds < 1 || b.affinityTimeoutSeconds > 86400)) {
            throw new IllegalArgumentException(
                    "session affinity timeout " + b.affinityTimeoutSeconds + " is out of range 1-86400");
        }
        this.affinityTimeoutSeconds = b.clientIpAffinity ? b.affinityTimeoutSeconds : 0;
        this.externalPolicyLocal = b.externalPolicyLocal;
        this.internalPolicyLocal = b.internalPolicyLocal;
        this.healthCheckNodePort = requirePort(b.healthCheckNodePort, "healthCheckNodePort", true);
    }

    private static int requirePort(int value, String what, boolean zeroAllowed) {
        if ((value == 0 && zeroAllowed) || (value >= 1 && value <= 65535)) {
            return value;
        }
        throw new IllegalArgumentException(what + " " + value + " is out of range " + (zeroAllowed ? "0" : "1") + "-65535");
    }

    public static Builder builder(ServicePortName name, String clusterIp, int port) {
        return new Builder(name, clusterIp, port);
    }

    public ServicePortName name() {
        return name;
    }

    public Protocol protocol() {
        return name.protocol();
    }

    public String clusterIp() {
        return clusterIp;
    }

    public int port() {
        return port;
    }

    /** 0 when the port has none. */
    public int nodePort() {
        return nodePort;
    }

    public List<String> externalIps() {
        return externalIps;
    }

    /** status.loadBalancer.ingress IPs in VIP mode (traffic arrives with the VIP as destination). */
    public List<String> loadBalancerIps() {
        return loadBalancerIps;
    }

    /**
     * spec.loadBalancerSourceRanges of this family, parsed: traffic to a load-balancer IP is only accepted from
     * these (and, when one holds the node's IP, from the load-balancer IPs themselves). Empty: from anywhere.
     */
    public List<Cidr> loadBalancerSourceRanges() {
        return loadBalancerSourceRanges;
    }

    /** Traffic to its load-balancer IPs is only accepted from its source ranges (kube-proxy's KUBE-FW chain). */
    public boolean restrictsLoadBalancerSources() {
        return !loadBalancerIps.isEmpty() && !loadBalancerSourceRanges.isEmpty();
    }

    public boolean clientIpAffinity() {
        return clientIpAffinity;
    }

    /** 0 without ClientIP affinity. */
    public int affinityTimeoutSeconds() {
        return affinityTimeoutSeconds;
    }

    /** externalTrafficPolicy: Local on an externally accessible Service. */
    public boolean externalPolicyLocal() {
        return externalPolicyLocal;
    }

    public boolean internalPolicyLocal() {
        return internalPolicyLocal;
    }

    /** 0 when the Service has none. */
    public int healthCheckNodePort() {
        return healthCheckNodePort;
    }

    /** Reachable other than by its cluster IP. */
    public boolean externallyAccessible() {
        return nodePort != 0 || !loadBalancerIps.isEmpty() || !externalIps.isEmpty();
    }

    /**
     * Some traffic to this port is spread over endpoints cluster-wide: internal traffic under Cluster policy, and
     * any externally accessible port, since even under external Local policy, traffic from pods and from the
     * node itself is short-circuited to all endpoints.
     */
    public boolean usesClusterEndpoints() {
        return !internalPolicyLocal || externallyAccessible();
    }

    /** Some traffic to this port goes only to endpoints on this node. */
    public boolean usesLocalEndpoints() {
        return internalPolicyLocal || (externallyAccessible() && externalPolicyLocal);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ServicePort)) {
            return false;
        }
        ServicePort that = (ServicePort) o;
        return port == that.port && nodePort == that.nodePort && clientIpAffinity == that.clientIpAffinity
                && affinityTimeoutSeconds == that.affinityTimeoutSeconds
                && externalPolicyLocal == that.externalPolicyLocal && internalPolicyLocal == that.internalPolicyLocal
                && healthCheckNodePort == that.healthCheckNodePort && name.equals(that.name)
                && clusterIp.equals(that.clusterIp) && externalIps.equals(that.externalIps)
                && loadBalancerIps.equals(that.loadBalancerIps)
                && loadBalancerSourceRanges.equals(that.loadBalancerSourceRanges);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, clusterIp, port, nodePort);
    }

    @Override
    public String toString() {
        return name + "/" + name.protocol() + " " + clusterIp + ":" + port
                + (nodePort != 0 ? " nodePort " + nodePort : "");
    }

    public static final class Builder {
        private final ServicePortName name;
        private final String clusterIp;
        private final int port;
        private int nodePort;
        private List<String> externalIps = List.of();
        private List<String> loadBalancerIps = List.of();
        private List<Cidr> loadBalancerSourceRanges = List.of();
        private boolean clientIpAffinity;
        private int affinityTimeoutSeconds = DEFAULT_AFFINITY_TIMEOUT_SECONDS;
        private boolean externalPolicyLocal;
        private boolean internalPolicyLocal;
        private int healthCheckNodePort;

        private Builder(ServicePortName name, String clusterIp, int port) {
            this.name = name;
            this.clusterIp = clusterIp;
            this.port = port;
        }

        public Builder nodePort(int value) {
            this.nodePort = value;
            return this;
        }

        public Builder externalIps(List<String> value) {
            this.externalIps = value;
            return this;
        }

        public Builder loadBalancerIps(List<String> value) {
            this.loadBalancerIps = value;
            return this;
        }

        /** Of the cluster IP's family. */
        public Builder loadBalancerSourceRanges(List<Cidr> value) {
            this.loadBalancerSourceRanges = value;
            return this;
        }

        public Builder clientIpAffinity(int timeoutSeconds) {
            this.clientIpAffinity = true;
            this.affinityTimeoutSeconds = timeoutSeconds;
            return this;
        }

        public Builder externalPolicyLocal(boolean value) {
            this.externalPolicyLocal = value;
            return this;
        }

        public Builder internalPolicyLocal(boolean value) {
            this.internalPolicyLocal = value;
            return this;
        }

        public Builder healthCheckNodePort(int value) {
            this.healthCheckNodePort = value;
            return this;
        }

        public ServicePort build() {
            return new ServicePort(this);
        }
    }
}
