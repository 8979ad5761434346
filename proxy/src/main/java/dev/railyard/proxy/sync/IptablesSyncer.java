package dev.railyard.proxy.sync;

import dev.railyard.proxy.apply.IptablesRestore;
import dev.railyard.proxy.apply.JumpRules;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.IptablesRenderer;
import dev.railyard.proxy.render.LineBuffer;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The iptables proxier of one IP family: kube-proxy's syncProxyRules around a {@link ChangeTracker}, an
 * {@link IptablesRenderer} and {@link IptablesRestore}, driven by its own {@link BoundedFrequencyRunner}.
 *
 * <p>Each sync drains the tracker and writes the new rules with one {@code iptables-restore --noflush}. Nothing
 * is written until both Services and EndpointSlices have synced, so a half-listed cluster never replaces good
 * rules. The first sync, the first after any failure, one asked for (the daemon's {@link IptablesCanary} asks when
 * the tables were flushed), one at least every hour (kube-proxy's FullSyncPeriod, or the sync period when longer)
 * and one where the large-cluster mode flips are full: every chain is rewritten and the jump rules from the
 * built-in chains are ensured. The others are partial: only the per-service chains of changed services are rewritten. Chains of
 * services that went away are deleted by comparing with the chains of the last successful sync (plus, after a
 * failure, those the failed sync may have created).
 *
 * <p>A failed sync is reported, forces the next sync to be full (the drained changes are gone, so a partial one
 * could miss them) and asks the runner for a retry after {@code retryInterval}.
 */
public final class IptablesSyncer extends ScheduledSyncer {
    /**
     * @param minSyncPeriod kube-proxy's --iptables-min-sync-period: the least time between syncs (after a burst)
     * @param syncPeriod    kube-proxy's --iptables-sync-period: the most time between syncs
     * @param retryInterval how soon a failed sync is retried (kube-proxy uses the sync period)
     */
    public record Settings(Duration minSyncPeriod, Duration syncPeriod, Duration retryInterval) {
        public Settings {
            Objects.requireNonNull(minSyncPeriod, "minSyncPeriod");
            Objects.requireNonNull(syncPeriod, "syncPeriod");
            Objects.requireNonNull(retryInterval, "retryInterval");
            if (syncPeriod.compareTo(minSyncPeriod) < 0 || syncPeriod.isZero()) {
                throw new IllegalArgumentException("syncPeriod " + syncPeriod + " must be positive and at least "
                        + "minSyncPeriod " + minSyncPeriod);
            }
        }

        /** kube-proxy's defaults: 1 s minimum, 30 s period, retry after one period. */
        public static Settings kubeProxyDefaults() {
            return new Settings(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(30));
        }
    }

    private final IptablesRenderer renderer;
    /** How long a full sync's iptables-restore may run; see {@link #fullRestore}. */
    public static final Duration FULL_SYNC_TIMEOUT = Duration.ofMinutes(15);

    private final IptablesRestore restore;
    /**
     * The same, with room for a full sync: iptables-nft's --noflush restore grows with rules times chains, and a
     * 2,000-service node's full sync did not finish in the 2 minutes a partial one gets. A timeout only turns a
     * slow full sync into a kill and a retry of the same full sync, forever; kube-proxy sets none at all.
     */
    private final IptablesRestore fullRestore;
    private final JumpRules jumpRules;

    // Guarded by this; only the runner's thread (or a caller of syncNow) touches them.
    private boolean appliedLargeCluster;
    /** Per-service chains that may exist in the kernel: to be deleted when no longer in use. */
    private volatile Set<String> knownNatChains;
    /** What failed syncs drained, to be reported with the next successful one. */
    private final List<StaleUdpEndpoint> unreportedGoneUdp = new ArrayList<>();
    private final Set<ServicePortName> unreportedNewlyActiveUdp = new HashSet<>();

    /**
     * @param existingNatChains nat chains already in the kernel when the proxier starts (e.g. from
     *                          {@code iptables-save -t nat}), so that per-service chains a previous run left
     *                          behind are deleted by the first sync; empty to leave them
     * @param resultListener    told about every sync, for metrics and logs; must not block
     */
    public IptablesSyncer(ChangeTracker tracker, IptablesRenderer renderer, IptablesRestore restore,
                          JumpRules jumpRules, Settings settings, Clock clock, Collection<String> existingNatChains,
                          Consumer<SyncResult> resultListener) {
        super("iptables-sync-", renderer.config().family(), tracker, settings, clock, resultListener);
        if (restore.family() != family()) {
            throw new IllegalArgumentException("restore is " + restore.family() + " but renderer is " + family());
        }
        this.renderer = renderer;
        this.restore = restore;
        this.fullRestore = restore.withTimeout(
                restore.timeout().compareTo(FULL_SYNC_TIMEOUT) > 0 ? restore.timeout() : FULL_SYNC_TIMEOUT);
        this.jumpRules = Objects.requireNonNull(jumpRules, "jumpRules");
        this.knownNatChains = Set.copyOf(existingNatChains);
    }

    /** Per-service nat chains that may be in the kernel: those of the last successful sync, plus a failed one's. */
    public Set<String> activeNatChains() {
        return knownNatChains;
    }

    @Override
    boolean forcesFullSync(ProxyState state) {
        // Large-cluster mode changes the rules of every service, not only the changed ones.
        return IptablesRenderer.isLargeCluster(state) != appliedLargeCluster;
    }

    @Override
    SyncResult apply(StateUpdate update, Instant startedAt, boolean full, Map<String, Instant> changeTimes) {
        ProxyState state = update.state();
        unreportedGoneUdp.addAll(update.goneUdpEndpoints());
        unreportedNewlyActiveUdp.addAll(update.newlyActiveUdpPorts());

        long renderStart = System.nanoTime();
        LineBuffer rules = full ? renderer.render(state, knownNatChains)
                : renderer.renderPartial(state, update.changedServices(), knownNatChains);
        Set<String> active = renderer.activeNatChains();
        long restoreStart = System.nanoTime();
        String error = applyRules(jumpRules, full ? fullRestore : restore, rules, full);
        long restoreEnd = System.nanoTime();
        int inputBytes = rules.length();
        if (full) {
            renderer.releaseBuffers();
        }

        boolean succeeded = error == null;
        SyncResult result = new SyncResult(family(), full ? SyncResult.Kind.FULL : SyncResult.Kind.PARTIAL,
                startedAt, error, Duration.ofNanos(restoreStart - renderStart),
                Duration.ofNanos(restoreEnd - restoreStart), inputBytes, renderer.filterRuleCount(),
                renderer.natRuleCount(), renderer.skippedNatRuleCount(), renderer.natChainCount(),
                renderer.skippedNatChainCount(), renderer.deletedChainCount(), state.serviceCount(),
                state.endpointCount(), full ? Set.of() : update.changedServices(),
                succeeded ? unreportedGoneUdp : List.of(), succeeded ? unreportedNewlyActiveUdp : Set.of(),
                succeeded ? changeTimes : Map.of(), state, false, renderer.skippedFilterRuleCount());
        if (succeeded) {
            knownNatChains = active;
            appliedLargeCluster = IptablesRenderer.isLargeCluster(state);
            unreportedGoneUdp.clear();
            unreportedNewlyActiveUdp.clear();
        } else {
            // The failed restore may have applied some tables (each commits on its own): remember its chains too.
            Set<String> mayExist = new HashSet<>(knownNatChains);
            mayExist.addAll(active);
            knownNatChains = Set.copyOf(mayExist);
        }
        return result;
    }

}
