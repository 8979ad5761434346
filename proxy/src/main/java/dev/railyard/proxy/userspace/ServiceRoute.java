package dev.railyard.proxy.userspace;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ServicePort;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Where new connections to one service port go. A sync swaps the endpoints in one volatile write, so the next
 * connection sees them and established connections, which hold their own channels, are untouched. Picks are
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
    private volatile Snapshot current;

    private record Snapshot(ServicePort service, UsableEndpoints endpoints, ClientIpAffinity affinity) {
    }

    ServiceRoute(IpFamily family, ServicePort service, UsableEndpoints endpoints, int maxAffinityEntries,
                 LongSupplier nanoTime) {
        this.family = family;
        this.maxAffinityEntries = maxAffinityEntries;
        this.nanoTime = nanoTime;
        this.current = new Snapshot(service, endpoints, affinityFor(service, null));
    }

    /** Applies to connections accepted from now on. Affinity survives unless its setting changed. */
    void update(ServicePort service, UsableEndpoints endpoints) {
        current = new Snapshot(service, endpoints, affinityFor(service, current.affinity));
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
     * The endpoints to try, in order, for a new connection from this client: the sticky or next round-robin
     * endpoint first, then the ones after it. Empty when the service has no usable endpoint for this traffic.
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
            AtomicInteger next = kind == TrafficKind.INTERNAL ? nextInternal : nextExternal;
            first = Math.floorMod(next.getAndIncrement(), count);
        }
        InetSocketAddress[] plan = new InetSocketAddress[Math.min(count, maxAttempts)];
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
