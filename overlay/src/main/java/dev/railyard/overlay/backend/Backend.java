package dev.railyard.overlay.backend;

import dev.railyard.overlay.lease.Lease;
import dev.railyard.overlay.lease.LeaseListener;

/**
 * Programs the data plane from lease events, and nothing else: it never talks to etcd. Leases of
 * this host and of hosts using another backend type are ignored.
 */
public interface Backend extends LeaseListener {

    /** flannel's {@code BackendType} string published in this host's lease. */
    String type();

    /** {@code BackendData} JSON published in this host's lease (e.g. the VTEP MAC), or "null". */
    String backendDataJson();

    /** {@code BackendV6Data} JSON published in this host's lease (e.g. the IPv6 VTEP MAC), or "null". */
    default String backendV6DataJson() {
        return "null";
    }

    /** MTU pods should use (FLANNEL_MTU). */
    int mtu();

    /** Tells the backend which subnet is ours, once leased and again if it ever changes. */
    void localLease(Lease own);

    /**
     * Re-applies everything already programmed, repairing entries removed behind our back (an
     * administrator, a link that went down and took its routes with it). Idempotent.
     */
    void reconcile();

    /** The peers programmed now (their entries applied to the kernel, or the udp forwarding table). */
    java.util.List<Lease> programmedPeers();

    /** Removes everything this backend programmed (peers and devices), for tests and teardown. */
    void teardown();

    /**
     * Releases what a process takes with it when it ends (the udp backend's TUN device and socket), leaving what
     * the kernel keeps (routes, VXLAN devices) as flannel leaves them when it stops.
     */
    default void close() {
    }
}
