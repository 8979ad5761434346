package dev.railyard.proxy.sync;

import dev.railyard.proxy.model.IpFamily;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * What every {@link Syncer} shares whatever it programs: its own {@link BoundedFrequencyRunner} calling
 * {@link #syncNow()}, kube-proxy's rule for when a sync must be full (the first one, the first after a failure,
 * one asked for from outside, and one at least every sync period), and handing each result to the listener.
 */
abstract class ScheduledSyncer implements Syncer {
    private static final Logger LOG = LoggerFactory.getLogger(ScheduledSyncer.class);

    private final IpFamily family;
    private final IptablesSyncer.Settings settings;
    private final Consumer<SyncResult> resultListener;
    private final BoundedFrequencyRunner runner;
    /** Asked for from outside (e.g. an iptables monitor): read, without waiting for a sync in progress. */
    private final AtomicBoolean fullSyncRequested = new AtomicBoolean();
    // Guarded by this; only the runner's thread (or a caller of syncNow) touches them.
    private boolean needFullSync = true;
    private Instant lastFullSyncAt;
    private volatile SyncResult lastResult;

    ScheduledSyncer(String threadPrefix, IpFamily family, IptablesSyncer.Settings settings,
                    Consumer<SyncResult> resultListener) {
        this.family = Objects.requireNonNull(family, "family");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.resultListener = Objects.requireNonNull(resultListener, "resultListener");
        this.runner = new BoundedFrequencyRunner(threadPrefix + family.kubernetesName(), this::syncNow,
                settings.minSyncPeriod(), settings.syncPeriod(), BoundedFrequencyRunner.KUBE_PROXY_BURST);
    }

    /** One sync, now, on the calling thread; the runner calls this, and tests and one-shot tools may. */
    public abstract SyncResult syncNow();

    @Override
    public IpFamily family() {
        return family;
    }

    /** Starts the sync thread; syncs then follow {@link #requestSync()} and the sync period. */
    @Override
    public void start() {
        runner.start();
    }

    /** Asks for a sync soon (coalesced, rate-limited); what the tracker's change listener should call. */
    @Override
    public void requestSync() {
        runner.run();
    }

    /** Makes the next sync a full one, e.g. after something else flushed the tables, and asks for it. */
    @Override
    public void requestFullSync() {
        fullSyncRequested.set(true);
        runner.run();
    }

    /** Stops the sync thread, waiting up to {@code timeout} for a sync in progress. */
    @Override
    public boolean stop(Duration timeout) throws InterruptedException {
        return runner.stop(timeout);
    }

    /** The last sync's result; null before the first. */
    @Override
    public SyncResult lastResult() {
        return lastResult;
    }

    IptablesSyncer.Settings settings() {
        return settings;
    }

    /** Whether a sync starting now must be full; consumes an outside request. Call under this object's lock. */
    boolean fullSyncDue(Instant now) {
        boolean requested = fullSyncRequested.getAndSet(false);
        return requested || needFullSync || lastFullSyncAt == null
                || !now.isBefore(lastFullSyncAt.plus(settings.syncPeriod()));
    }

    /**
     * Records the outcome: a success may end the need for a full sync; a failure forces the next one to be full
     * (what it drained is gone, so a partial one could miss it) and asks for a retry.
     */
    void finished(SyncResult result, boolean full) {
        if (result.succeeded()) {
            needFullSync = false;
            if (full) {
                lastFullSyncAt = result.startedAt();
            }
        } else if (result.failed()) {
            needFullSync = true;
            LOG.warn("{} {} sync failed, retrying in {} with a full sync: {}", family.kubernetesName(),
                    result.kind(), settings.retryInterval(), result.error());
            runner.retryAfter(settings.retryInterval());
        }
    }

    SyncResult publish(SyncResult result) {
        lastResult = result;
        try {
            resultListener.accept(result);
        } catch (RuntimeException e) {
            LOG.error("sync result listener failed", e);
        }
        return result;
    }
}
