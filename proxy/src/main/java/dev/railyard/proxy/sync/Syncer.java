package dev.railyard.proxy.sync;

import dev.railyard.proxy.model.IpFamily;

import java.time.Duration;

/**
 * The proxier of one IP family as the daemon drives it, whichever way it programs the node: iptables rules
 * ({@link IptablesSyncer}) or userspace listeners ({@link UserspaceSyncer}). Both drain the same
 * {@link ChangeTracker} and report a {@link SyncResult} per sync, so health, metrics and logs work alike.
 */
public interface Syncer {
    IpFamily family();

    /** Starts the sync thread; syncs then follow {@link #requestSync()} and the sync period. */
    void start();

    /** Asks for a sync soon (coalesced, rate-limited). */
    void requestSync();

    /** Makes the next sync a full one and asks for it. */
    void requestFullSync();

    /** Stops the sync thread, waiting up to {@code timeout} for a sync in progress. */
    boolean stop(Duration timeout) throws InterruptedException;

    /** The last sync's result; null before the first. */
    SyncResult lastResult();
}
