package dev.railyard.proxy.userspace;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * sessionAffinity: ClientIP for one service port: which endpoint each client IP last connected to, forgotten
 * once the client has not connected for the timeout (as iptables' "recent" match, which kube-proxy uses,
 * measures it from the last new connection). Bounded: when full, expired entries are dropped, and if none has
 * expired a new client simply gets no stickiness rather than growing the map.
 */
final class ClientIpAffinity {
    /** A full table is swept at most this often, so a flood of new clients does not scan it per connection. */
    private static final long PURGE_INTERVAL_NANOS = 1_000_000_000L;

    private final long timeoutNanos;
    private final int maxEntries;
    private final LongSupplier nanoTime;
    private final ConcurrentHashMap<InetAddress, Sticky> entries = new ConcurrentHashMap<>();
    private volatile long lastPurge;

    ClientIpAffinity(int timeoutSeconds, int maxEntries, LongSupplier nanoTime) {
        this.timeoutNanos = timeoutSeconds * 1_000_000_000L;
        this.maxEntries = maxEntries;
        this.nanoTime = nanoTime;
        this.lastPurge = nanoTime.getAsLong() - PURGE_INTERVAL_NANOS;
    }

    int timeoutSeconds() {
        return (int) (timeoutNanos / 1_000_000_000L);
    }

    /** The endpoint this client sticks to, or null when it has none or it expired. */
    InetSocketAddress lookup(InetAddress client) {
        Sticky sticky = entries.get(client);
        if (sticky == null) {
            return null;
        }
        if (expired(sticky, nanoTime.getAsLong())) {
            entries.remove(client, sticky);
            return null;
        }
        return sticky.endpoint;
    }

    /** The client just connected to this endpoint: stick to it, and restart the timeout. */
    void record(InetAddress client, InetSocketAddress endpoint) {
        long now = nanoTime.getAsLong();
        Sticky sticky = entries.get(client);
        if (sticky != null && sticky.endpoint.equals(endpoint)) {
            sticky.lastUsed = now;
            return;
        }
        if (sticky == null && entries.size() >= maxEntries && !purgeExpired(now)) {
            return;
        }
        entries.put(client, new Sticky(endpoint, now));
    }

    int size() {
        return entries.size();
    }

    /** @return whether there is room now */
    private boolean purgeExpired(long now) {
        if (now - lastPurge >= PURGE_INTERVAL_NANOS) {
            lastPurge = now;
            for (Iterator<Map.Entry<InetAddress, Sticky>> it = entries.entrySet().iterator(); it.hasNext(); ) {
                if (expired(it.next().getValue(), now)) {
                    it.remove();
                }
            }
        }
        return entries.size() < maxEntries;
    }

    private boolean expired(Sticky sticky, long now) {
        return now - sticky.lastUsed > timeoutNanos;
    }

    private static final class Sticky {
        final InetSocketAddress endpoint;
        volatile long lastUsed;

        Sticky(InetSocketAddress endpoint, long lastUsed) {
            this.endpoint = endpoint;
            this.lastUsed = lastUsed;
        }
    }
}
