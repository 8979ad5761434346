package dev.railyard.proxy.userspace;

/**
 * Which traffic policy applies to a listener's connections: kube-proxy treats traffic to a cluster IP and
 * traffic arriving from outside (node ports, external IPs, load-balancer IPs) under different policies.
 */
public enum TrafficKind {
    /** To the cluster IP: spec.internalTrafficPolicy. */
    INTERNAL,
    /** To a node port, external IP or load-balancer IP: spec.externalTrafficPolicy. */
    EXTERNAL
}
