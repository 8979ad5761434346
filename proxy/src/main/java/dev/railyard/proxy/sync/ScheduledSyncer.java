package dev.railyard.proxy.sync;

import dev.railyard.proxy.apply.IptablesException;
import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.render.LineBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * What every {@link Syncer} shares whatever it programs: its own {@link BoundedFrequencyRunner} calling
 * {@link #syncNow()}; never programming before both kinds of source have synced; draining the tracker and
 * keeping the change times of failed syncs for the next successful one; kube-proxy's rule for when a sync must
 * be full (the first one, the first after a failure, one asked for from outside, and one at least every sync
 * period); a retry after a failure; and handing each result to the listener. Subclasses only apply a drained
 * update ({@link #apply}).
 */
abstract class ScheduledSyncer implements Syncer {
    private static final Logger LOG = LoggerFactory.getLogger(ScheduledSyncer.class);
    /** kube-proxy's proxyutil.FullSyncPeriod. */
    static final Duration KUBE_PROXY_FULL_SYNC_PERIOD = Duration.ofHours(1);

    private final IpFamily family;
    private final ChangeTracker tracker;
    private final Clock clock;
    private final IptablesSyncer.Settings settings;
    private final Consumer<SyncResult> resultListener;
    private final BoundedFrequencyRunner runner;
    /** Asked for from outside (e.g. an iptables monitor): read, without waiting for a sync in progress. */
    private final AtomicBoolean fullSyncRequested = new AtomicBoolean();
    // Guarded by this; only the runner's thread (or a caller of syncNow) touches them.
    private boolean needFullSync = true;
    private Instant lastFullSyncAt;
    /** What failed syncs drained: each service's earliest pending change, reported by the next successful sync. */
    private final Map<String, Instant> unreportedChangeTimes = new HashMap<>();
    private volatile SyncResult lastResult;

    ScheduledSyncer(String threadPrefix, IpFamily family, ChangeTracker tracker, IptablesSyncer.Settings settings,
                    Clock clock, Consumer<SyncResult> resultListener) {
        this.family = Objects.requireNonNull(family, "family");
        this.tracker = Objects.requireNonNull(tracker, "tracker");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.resultListener = Objects.requireNonNull(resultListener, "resultListener");
        this.runner = new BoundedFrequencyRunner(threadPrefix + family.kubernetesName(), this::syncNow,
                settings.minSyncPeriod(), settings.syncPeriod(), BoundedFrequencyRunner.KUBE_PROXY_BURST);
    }

    /** One sync, now, on the calling thread; the runner calls this, and tests and one-shot tools may. */
    public final synchronized SyncResult syncNow() {
        Instant startedAt = clock.instant();
        if (!tracker.isSynced()) {
            // Like kube-proxy: never program a view of the cluster the informers have not finished listing.
            return publish(SyncResult.skipped(family, startedAt));
        }
        boolean full = fullSyncDue(startedAt);
        StateUpdate update = tracker.drain(family);
        full |= update.contextChanged() || forcesFullSync(update.state());
        update.firstChangeTimes().forEach((key, time) -> unreportedChangeTimes.merge(key, time,
                (a, b) -> a.isBefore(b) ? a : b));
        SyncResult result = apply(update, startedAt, full, unreportedChangeTimes);
        if (result.succeeded()) {
            unreportedChangeTimes.clear();
            needFullSync = false;
            if (full) {
                lastFullSyncAt = startedAt;
            }
        } else if (result.failed()) {
            // What was drained is gone, so a partial sync could miss it: the next one is full.
            needFullSync = true;
            LOG.warn("{} {} sync failed, the next sync is full, at the latest in {}: {}", family.kubernetesName(),
                    result.kind(), settings.retryInterval(), result.error());
            runner.retryAfter(settings.retryInterval());
        }
        return publish(result);
    }

    /**
     * Programs one drained update; called under this object's lock.
     *
     * @param full        whether this sync must rewrite everything it owns (and re-ensure jump rules)
     * @param changeTimes per service, its earliest change not yet reported; a successful result carries them
     */
    abstract SyncResult apply(StateUpdate update, Instant startedAt, boolean full, Map<String, Instant> changeTimes);

    /** Whether this state needs a full sync whatever the schedule says (e.g. a mode that changes every rule). */
    boolean forcesFullSync(ProxyState state) {
        return false;
    }

    /** Brings a sync forward to {@code delay} from now, e.g. for work a sync left to a later one. */
    final void syncAfter(Duration delay) {
        runner.retryAfter(delay);
    }

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

    /** Whether a sync starting now must be full; consumes an outside request. */
    private boolean fullSyncDue(Instant now) {
        boolean requested = fullSyncRequested.getAndSet(false);
        return requested || needFullSync || lastFullSyncAt == null
                || !now.isBefore(lastFullSyncAt.plus(fullSyncPeriod()));
    }

    /**
     * The most time between two full syncs while nothing asks for one: kube-proxy's FullSyncPeriod (an hour), or
     * the sync period when longer. A full sync of iptables or nftables mode is seconds of work at 10,000 services,
     * and a loss of rules is noticed otherwise (a refused partial sync, the iptables canary).
     */
    Duration fullSyncPeriod() {
        Duration syncPeriod = settings.syncPeriod();
        return syncPeriod.compareTo(KUBE_PROXY_FULL_SYNC_PERIOD) > 0 ? syncPeriod : KUBE_PROXY_FULL_SYNC_PERIOD;
    }

    /** The sync period itself, for a mode whose full sync is cheap. */
    final Duration syncPeriod() {
        return settings.syncPeriod();
    }

    private SyncResult publish(SyncResult result) {
        lastResult = result;
        try {
            resultListener.accept(result);
        } catch (RuntimeException e) {
            LOG.error("sync result listener failed", e);
        }
        return result;
    }

    /**
     * Applies {@code rules} with {@code restore}, first making sure of {@code jumpRules} on a full sync; the
     * error to report, or null. The jump rules are not part of the restore: declaring INPUT or PREROUTING there
     * would flush them.
     */
    static String applyRules(JumpRules jumpRules, IptablesRestore restore, LineBuffer rules, boolean full) {
        try {
            programRules(jumpRules, restore, rules, full);
            return null;
        } catch (IptablesException e) {
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while running iptables";
        }
    }

    /** What {@link #applyRules} does, failing with the exception. */
    static void programRules(JumpRules jumpRules, IptablesRestore restore, LineBuffer rules, boolean full)
            throws IptablesException, InterruptedException {
        if (full) {
            jumpRules.ensure();
        }
        restore.restore(rules::writeTo);
    }
}
