package dev.railyard.proxy.userspace;

/**
 * Which rules apply to a listener's connections: kube-proxy treats traffic to a cluster IP and traffic arriving
 * from outside (node ports, external IPs, load-balancer IPs) under different policies, and filters only
 * load-balancer traffic by source (spec.loadBalancerSourceRanges; node ports and external IPs are not, in
 * kube-proxy's iptables mode either).
 */
public enum TrafficKind {
    /** To the cluster IP: spec.internalTrafficPolicy. */
    INTERNAL,
    /** To a node port or external IP: spec.externalTrafficPolicy. */
    EXTERNAL,
    /**
     * To a load-balancer IP: spec.externalTrafficPolicy, and only from spec.loadBalancerSourceRanges. Its own
     * kind because in capture mode a redirected connection no longer shows which address it was sent to: load-
     * balancer traffic of a service with source ranges is redirected to a listener of its own.
     */
    LOAD_BALANCER;

    /** Whether spec.externalTrafficPolicy picks the endpoints (else spec.internalTrafficPolicy). */
    boolean usesExternalPolicy() {
        return this != INTERNAL;
    }
}
