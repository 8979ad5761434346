package dev.railyard.overlay.lease;

import dev.railyard.overlay.config.Ip4Net;
import java.time.Instant;

/**
 * A subnet held by one host.
 *
 * @param etcdLeaseId the etcd lease the key is attached to; 0 marks a reservation, which never
 *     expires and is never handed to anyone else
 * @param expiration when the etcd lease runs out unless renewed; {@link Instant#MAX} for a
 *     reservation and for peers whose TTL we did not look up
 */
public record Lease(Ip4Net subnet, LeaseAttrs attrs, long etcdLeaseId, Instant expiration) {

    public boolean isReservation() {
        return etcdLeaseId == 0;
    }
}
