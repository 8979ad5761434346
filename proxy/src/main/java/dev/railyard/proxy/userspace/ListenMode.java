package dev.railyard.proxy.userspace;

/** Where the userspace proxier listens for a service's traffic. */
public enum ListenMode {
    /**
     * On the service's own addresses: clusterIP:port, each external IP and load-balancer IP :port, and
     * bindAddress:nodePort. Needs no iptables and no root, so the proxy can run anywhere; an address that is not
     * on the host is bound with IP_FREEBIND where a native transport (io_uring, epoll) is available.
     */
    SERVICE_ADDRESSES,
    /**
     * On ephemeral ports of the bind address (for the other IP family, of that family's wildcard address), one per
     * service port and kind of traffic, for iptables and ip6tables rules that send the service's traffic there
     * (kube-proxy's old userspace mode): REDIRECT for a wildcard bind address, DNAT to it for a specific one.
     */
    CAPTURE
}
