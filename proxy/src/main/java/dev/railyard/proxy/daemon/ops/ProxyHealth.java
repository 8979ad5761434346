package dev.railyard.proxy.daemon.ops;

import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.sync.SyncResult;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * kube-proxy's proxier health (pkg/proxy/healthcheck/proxy_health.go): a proxier is unhealthy when a change was
 * queued for it and no successful sync followed within the health timeout (kube-proxy uses 2 × syncPeriod). A
 * proxier that has pending work but is not late yet, or none at all, is healthy; so is one that has never been
 * {@link #started started} (kube-proxy marks each proxier updated when its sync loop starts, which is what
 * {@link #started} is for). /healthz also needs the node to be eligible ({@link #nodeChanged}): not being deleted
 * and not tainted ToBeDeletedByClusterAutoscaler (KEP-3836), so load balancers drain a node before it goes;
 * /livez and the service health checks ({@link #isHealthy}) ignore the node, as in kube-proxy.
 *
 * <p>Thread-safe; every method holds the monitor for a few map operations only.
 */
public final class ProxyHealth implements Consumer<SyncResult> {
    private final Duration healthTimeout;
    private final Clock clock;
    private final Map<IpFamily, Instant> lastUpdated = new EnumMap<>(IpFamily.class);
    private final Map<IpFamily, Instant> oldestPendingQueued = new EnumMap<>(IpFamily.class);
    /** Eligible until a node event says otherwise, as kube-proxy starts. */
    private boolean nodeEligible = true;

    public ProxyHealth(Duration healthTimeout, Clock clock) {
        if (healthTimeout.isNegative() || healthTimeout.isZero()) {
            throw new IllegalArgumentException("health timeout must be positive, not " + healthTimeout);
        }
        this.healthTimeout = healthTimeout;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** kube-proxy's rule: the timeout is twice the (iptables) sync period. */
    public static ProxyHealth forSyncPeriod(Duration syncPeriod, Clock clock) {
        return new ProxyHealth(syncPeriod.multipliedBy(2), clock);
    }

    /** A proxier's sync loop starts: it is watched from now on (kube-proxy's Updated() at SyncLoop start). */
    public synchronized void started(IpFamily family) {
        lastUpdated.put(family, clock.instant());
    }

    /** A change needs programming (kube-proxy's QueuedUpdate): the clock starts if it is not already running. */
    public synchronized void queued(IpFamily family) {
        oldestPendingQueued.putIfAbsent(family, clock.instant());
    }

    /** The proxier programmed everything queued so far (kube-proxy's Updated). */
    public synchronized void updated(IpFamily family) {
        oldestPendingQueued.remove(family);
        lastUpdated.put(family, clock.instant());
    }

    /** Successful syncs count as {@link #updated}; failed and skipped ones leave the pending clock running. */
    @Override
    public void accept(SyncResult result) {
        if (result.succeeded()) {
            updated(result.family());
        }
    }

    /**
     * This node's Node changed (kube-proxy's SyncNode): eligible unless being deleted or tainted by the cluster
     * autoscaler; a deleted Node object is not eligible either.
     */
    public synchronized void nodeChanged(dev.railyard.proxy.source.NodeInfo node) {
        nodeEligible = node != null && node.eligible();
    }

    public synchronized boolean nodeEligible() {
        return nodeEligible;
    }

    /** The proxier's health alone, what the service health-check node ports answer with (kube-proxy's IsHealthy). */
    public boolean isHealthy() {
        return status().healthy();
    }

    /** /healthz: the proxier's health and the node's eligibility. */
    public synchronized Status healthzStatus() {
        Status proxier = status();
        return new Status(proxier.healthy() && nodeEligible, proxier.lastUpdated(), proxier.currentTime(),
                nodeEligible);
    }

    /** kube-proxy's isHealthy(): unhealthy as soon as one watched proxier has a change pending for too long. */
    public synchronized Status status() {
        Instant now = clock.instant();
        Instant latest = null;
        for (Map.Entry<IpFamily, Instant> entry : lastUpdated.entrySet()) {
            Instant updatedAt = entry.getValue();
            if (latest == null || updatedAt.isAfter(latest)) {
                latest = updatedAt;
            }
            Instant pendingSince = oldestPendingQueued.get(entry.getKey());
            if (pendingSince != null && Duration.between(pendingSince, now).compareTo(healthTimeout) >= 0) {
                return new Status(false, updatedAt, now, nodeEligible);
            }
        }
        return new Status(true, latest, now, nodeEligible);
    }

    /**
     * One health evaluation.
     *
     * @param lastUpdated  the latest successful update (of the late proxier when unhealthy); null if none yet
     * @param nodeEligible the node is neither being deleted nor tainted for deletion
     */
    public record Status(boolean healthy, Instant lastUpdated, Instant currentTime, boolean nodeEligible) {
        public Status(boolean healthy, Instant lastUpdated, Instant currentTime) {
            this(healthy, lastUpdated, currentTime, true);
        }

        public int httpStatus() {
            return healthy ? 200 : 503;
        }

        /**
         * kube-proxy's /healthz body. As there, a healthy answer reports currentTime as lastUpdated (older
         * releases said when the sync loop last ran; clients expect "recent" when healthy).
         */
        public String healthzJson() {
            return "{\"lastUpdated\": \"" + shownLastUpdated() + "\",\"currentTime\": \"" + currentTime
                    + "\", \"nodeEligible\": " + nodeEligible + "}";
        }

        /** kube-proxy's /livez body. */
        public String livezJson() {
            return "{\"lastUpdated\": \"" + shownLastUpdated() + "\",\"currentTime\": \"" + currentTime + "\"}";
        }

        private String shownLastUpdated() {
            if (healthy) {
                return currentTime.toString();
            }
            return lastUpdated == null ? Instant.EPOCH.toString() : lastUpdated.toString();
        }
    }
}
