package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ServicePort;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Where new connections to one service port go, and who may open them. A sync swaps the endpoints and the
 * source ranges in one volatile write, so the next connection sees them and established connections, which hold
 * their own channels, are untouched (as conntrack keeps established flows in iptables mode). Picks are
 * round-robin, or sticky per client IP under ClientIP affinity.
 */
final class ServiceRoute {
    private static final InetSocketAddress[] NOWHERE = new InetSocketAddress[0];

    private final IpFamily family;
    private final TrafficCounters counters = new TrafficCounters();
    private final AtomicInteger nextInternal = new AtomicInteger();
    private final AtomicInteger nextExternal = new AtomicInteger();
    private final int maxAffinityEntries;
    private final LongSupplier nanoTime;
    private final InetAddress nodeIp;
    private volatile Snapshot current;

    private record Snapshot(ServicePort service, UsableEndpoints endpoints, ClientIpAffinity affinity,
                            SourceRanges loadBalancerSources) {
    }

    /** @param nodeIp this node's primary IP of the family, for source ranges that hold it; null if unknown */
    ServiceRoute(IpFamily family, ServicePort service, UsableEndpoints endpoints, int maxAffinityEntries,
                 LongSupplier nanoTime, InetAddress nodeIp) {
        this.family = family;
        this.maxAffinityEntries = maxAffinityEntries;
        this.nanoTime = nanoTime;
        this.nodeIp = nodeIp;
        this.current = new Snapshot(service, endpoints, affinityFor(service, null), SourceRanges.of(service, nodeIp));
    }

    /** Applies to connections accepted from now on. Affinity survives unless its setting changed. */
    void update(ServicePort service, UsableEndpoints endpoints) {
        current = new Snapshot(service, endpoints, affinityFor(service, current.affinity),
                SourceRanges.of(service, nodeIp));
    }

    private ClientIpAffinity affinityFor(ServicePort service, ClientIpAffinity existing) {
        if (!service.clientIpAffinity()) {
            return null;
        }
        if (existing != null && existing.timeoutSeconds() == service.affinityTimeoutSeconds()) {
            return existing;
        }
        return new ClientIpAffinity(service.affinityTimeoutSeconds(), maxAffinityEntries, nanoTime);
    }

    ServicePort service() {
        return current.service;
    }

    IpFamily family() {
        return family;
    }

    TrafficCounters counters() {
        return counters;
    }

    /**
     * Whether this client may open a connection or UDP session of this kind: only load-balancer traffic is
     * filtered, by spec.loadBalancerSourceRanges.
     */
    boolean admits(TrafficKind kind, InetAddress client) {
        return kind != TrafficKind.LOAD_BALANCER || current.loadBalancerSources.admits(client);
    }

    /**
     * The endpoints to try, in order, for a new connection from this client: the sticky or next round-robin
     * endpoint first, then the ones after it, starting over at the first while attempts are left (as kube-proxy's
     * userspace mode dialled a lone endpoint again: a SYN dropped by a full accept queue is not a dead endpoint).
     * Empty when the service has no usable endpoint for this traffic.
     */
    InetSocketAddress[] plan(TrafficKind kind, InetAddress client, int maxAttempts) {
        Snapshot snapshot = current;
        InetSocketAddress[] endpoints = snapshot.endpoints.forTraffic(kind);
        int count = endpoints.length;
        if (count == 0) {
            return NOWHERE;
        }
        int first = -1;
        if (snapshot.affinity != null) {
            first = indexOf(endpoints, snapshot.affinity.lookup(client));
        }
        if (first < 0) {
            AtomicInteger next = kind.usesExternalPolicy() ? nextExternal : nextInternal;
            first = Math.floorMod(next.getAndIncrement(), count);
        }
        InetSocketAddress[] plan = new InetSocketAddress[maxAttempts];
        for (int i = 0; i < plan.length; i++) {
            plan[i] = endpoints[(first + i) % count];
        }
        return plan;
    }

    /** The client is now connected to this endpoint: under ClientIP affinity it sticks there. */
    void connected(InetAddress client, InetSocketAddress endpoint) {
        ClientIpAffinity affinity = current.affinity;
        if (affinity != null) {
            affinity.record(client, endpoint);
        }
    }

    private static int indexOf(InetSocketAddress[] endpoints, InetSocketAddress wanted) {
        if (wanted != null) {
            for (int i = 0; i < endpoints.length; i++) {
                if (endpoints[i].equals(wanted)) {
                    return i;
                }
            }
        }
        return -1;
    }
}
