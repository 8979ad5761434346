package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ServicePortName;

/**
 * A snapshot of one service port's traffic through the userspace proxier since its listeners opened. Bytes
 * "in" flow from clients to endpoints, bytes "out" back to clients.
 *
 * @param connectionsOpened TCP connections accepted (those refused by source range count in sourceRangeDenied only)
 * @param connectionsActive TCP connections accepted and not yet closed
 * @param connectErrors     failed connection attempts to endpoints (one accepted connection may cause several)
 * @param rejected          connections and UDP sessions refused because no endpoint was usable or all failed
 * @param resets            TCP connections aborted by a reset or an I/O error on either side
 * @param udpDropped        datagrams dropped: session limit reached, or a socket not writable
 * @param sourceRangeDenied load-balancer traffic from outside spec.loadBalancerSourceRanges: TCP connections
 *                          reset at once (not counted as opened) and UDP datagrams dropped (no session opened)
 */
public record TrafficStats(ServicePortName service, IpFamily family, long connectionsOpened, long connectionsActive,
                           long bytesIn, long bytesOut, long connectErrors, long rejected, long resets,
                           long udpSessionsOpened, long udpSessionsActive, long udpDropped,
                           long sourceRangeDenied) {
}
