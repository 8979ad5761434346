package dev.railyard.proxy.sync;

import dev.railyard.nftables.Element;
import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.NftException;
import dev.railyard.proxy.render.nftables.NftablesLayout;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.nftables.NftablesRenderer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The nftables proxier of one IP family: kube-proxy's nftables syncProxyRules around a {@link ChangeTracker}, an
 * {@link NftablesRenderer} and an {@link NftApplier}, on {@link ScheduledSyncer}'s schedule (nothing before both
 * kinds have synced; full syncs at start, after a failure and once an hour, as kube-proxy's nftables proxier;
 * partial ones in between, at least once per sync period).
 *
 * <p>Each sync first deletes the per-service chains that have been stale (flushed, unused) for longer than
 * {@link NftablesRenderer#STALE_CHAIN_GRACE}, in a transaction of its own as kube-proxy does; if the kernel
 * refuses that, the sync goes on and the next one is full. Then the sync's own transaction is applied, whole or
 * not at all; a refusal is reported with the operation the kernel refused and makes the next sync full.
 */
public final class NftablesSyncer extends ScheduledSyncer {
    private static final Logger LOG = LoggerFactory.getLogger(NftablesSyncer.class);

    /** After the grace, so that the chains flushed last are old enough to go. */
    private static final Duration STALE_CHAIN_MARGIN = Duration.ofMillis(100);

    /**
     * Full syncs that failed in a row after which the next one deletes the table and writes it whole: an object of
     * another type under one of our names (a set where we write a map) is refused by every ordinary full sync,
     * which never deletes what it does not know. kube-proxy stays stuck there; the table is ours to replace.
     */
    static final int RECREATE_AFTER_FAILED_FULL_SYNCS = 2;

    /** Replaced by a fresh one when the table is re-created. */
    private NftablesRenderer renderer;
    private int failedFullSyncs;
    private final NftApplier applier;
    private final Clock clock;
    /** Set when the stale-chain deletion was refused: kube-proxy then makes the next sync full. */
    private boolean staleDeletionRefused;
    /**
     * The chains whose deletion the kernel refused last (EBUSY: something else still jumps to them). Refused again,
     * they are retried at the sync period, not by a full sync every second: one foreign reference kept the table
     * rewritten back to back.
     */
    private Set<String> refusedStaleChains = Set.of();
    /** What failed syncs drained, to be reported with the next successful one. */
    private final List<StaleUdpEndpoint> unreportedGoneUdp = new ArrayList<>();
    private final Set<ServicePortName> unreportedNewlyActiveUdp = new HashSet<>();

    public NftablesSyncer(ChangeTracker tracker, NftablesRenderer renderer, NftApplier applier,
                          IptablesSyncer.Settings settings, Clock clock, Consumer<SyncResult> resultListener) {
        super("nftables-sync-", renderer.config().family(), tracker, settings, clock, resultListener);
        this.renderer = renderer;
        this.applier = Objects.requireNonNull(applier, "applier");
        this.clock = clock;
    }

    /**
     * Lists the kernel's table (its chains, sets and maps, and the elements of the shared sets and maps) for the
     * renderer, before a split full sync that must know them; the error, or null.
     */
    private String adoptKernelView() {
        try {
            NftApplier.TableObjects objects = applier.listObjects(renderer.family(), NftablesLayout.TABLE);
            Map<String, List<Element>> elements = new HashMap<>();
            if (objects.exists()) {
                for (String container : renderer.sharedContainers(objects)) {
                    elements.put(container, applier.listElements(renderer.family(), NftablesLayout.TABLE,
                            container));
                }
            }
            renderer.adoptKernelView(objects, elements);
            return null;
        } catch (NftException e) {
            return "cannot list table " + renderer.family() + " " + NftablesLayout.TABLE + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while listing the nftables table";
        }
    }

    @Override
    boolean forcesFullSync(ProxyState state) {
        boolean refused = staleDeletionRefused;
        staleDeletionRefused = false;
        return refused;
    }

    @Override
    SyncResult apply(StateUpdate update, Instant startedAt, boolean full, Map<String, Instant> changeTimes) {
        ProxyState state = update.state();
        unreportedGoneUdp.addAll(update.goneUdpEndpoints());
        unreportedNewlyActiveUdp.addAll(update.newlyActiveUdpPorts());

        long renderStart = System.nanoTime();
        String error = null;
        boolean recreate = full && failedFullSyncs >= RECREATE_AFTER_FAILED_FULL_SYNCS;
        NftablesRenderer planner = recreate ? renderer.forRecreatedTable() : renderer;
        if (full && !recreate && renderer.needsKernelView()) {
            error = adoptKernelView();
        }
        NftablesRenderer.Plan plan = recreate ? planner.planRecreation(state, clock.instant())
                : renderer.plan(state, full ? null : update.changedServices(), clock.instant());
        if (recreate) {
            LOG.warn("{}: {} full syncs failed in a row; deleting table {} and writing it whole, in one transaction",
                    family().kubernetesName(), failedFullSyncs, NftablesLayout.TABLE);
        }
        long applyStart = System.nanoTime();
        java.util.concurrent.atomic.AtomicInteger committed = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
        boolean cleanupFailed = false;
        try {
            if (error != null) {
                throw new NftException(NftException.Reason.OTHER, error);
            }
            if (!plan.staleChainDeletion().isEmpty()) {
                try {
                    bytes.addAndGet(applier.apply(plan.staleChainDeletion()));
                    renderer.staleDeletionApplied(plan);
                    refusedStaleChains = Set.of();
                } catch (NftException e) {
                    Set<String> refused = plan.staleChainNames();
                    boolean again = refusedStaleChains.containsAll(refused);
                    LOG.warn("{} could not delete {} stale chains, will retry {}: {}", family().kubernetesName(),
                            plan.staleChainDeletion().size(), again ? "at the sync period" : "with a full sync",
                            e.getMessage());
                    staleDeletionRefused = !again;
                    refusedStaleChains = refused;
                    cleanupFailed = true;
                }
            }
            applier.applyInOrder(plan.transactions(), sent -> {
                committed.incrementAndGet();
                bytes.addAndGet(sent);
            });
        } catch (NftException e) {
            error = e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error = "interrupted while applying the nftables transaction";
        }
        long applyEnd = System.nanoTime();

        boolean succeeded = error == null;
        if (full) {
            failedFullSyncs = succeeded ? 0 : failedFullSyncs + 1;
        }
        if (succeeded) {
            if (recreate) {
                renderer = planner; // the old one's view of the kernel went with the table
                refusedStaleChains = Set.of(); // and so did what jumped to its stale chains
            }
            renderer.committed(plan);
            if (renderer.hasStaleChains() && !refusedStaleChains.containsAll(renderer.staleChains())) {
                // Flushed chains are deleted by the first sync after the grace; without one they would wait for
                // the sync period.
                syncAfter(NftablesRenderer.STALE_CHAIN_GRACE.plus(STALE_CHAIN_MARGIN));
            }
        } else {
            // A refused re-creation changed nothing (one transaction); the old renderer's view still holds.
            planner.failed(plan, committed.get());
        }
        NftablesRenderer.Counts counts = plan.counts();
        SyncResult result = new SyncResult(family(), full ? SyncResult.Kind.FULL : SyncResult.Kind.PARTIAL,
                startedAt, error, Duration.ofNanos(applyStart - renderStart), Duration.ofNanos(applyEnd - applyStart),
                (int) Math.min(Integer.MAX_VALUE, bytes.get()), 0, counts.rulesWritten(), 0, counts.chainsWritten(), 0,
                cleanupFailed ? 0 : counts.staleChainsDeleted(), state.serviceCount(), state.endpointCount(),
                full ? Set.of() : update.changedServices(), succeeded ? unreportedGoneUdp : List.of(),
                succeeded ? unreportedNewlyActiveUdp : Set.of(), succeeded ? changeTimes : Map.of(), state,
                cleanupFailed);
        if (succeeded) {
            unreportedGoneUdp.clear();
            unreportedNewlyActiveUdp.clear();
        }
        return result;
    }
}
