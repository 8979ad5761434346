package dev.railyard.overlay.lease;

import dev.railyard.overlay.config.Ip4Net;
import dev.railyard.overlay.config.Ip6Net;
import java.time.Instant;

/**
 * The subnets held by one host.
 *
 * @param etcdLeaseId the etcd lease the key is attached to; 0 marks a reservation, which never
 *     expires and is never handed to anyone else (and every lease of the kube subnet manager, which has none)
 * @param expiration when the etcd lease runs out unless renewed; {@link Instant#MAX} for a
 *     reservation and for peers whose TTL we did not look up
 */
public record Lease(LeaseSubnets subnets, LeaseAttrs attrs, long etcdLeaseId, Instant expiration) {

    /** An IPv4-only lease. */
    public Lease(Ip4Net subnet, LeaseAttrs attrs, long etcdLeaseId, Instant expiration) {
        this(LeaseSubnets.of(subnet), attrs, etcdLeaseId, expiration);
    }

    /** The IPv4 subnet, or null in an IPv6-only network. */
    public Ip4Net subnet() {
        return subnets.ipv4();
    }

    /** The IPv6 subnet, or null in an IPv4-only network. */
    public Ip6Net ipv6Subnet() {
        return subnets.ipv6();
    }

    public boolean isReservation() {
        return etcdLeaseId == 0;
    }
}
