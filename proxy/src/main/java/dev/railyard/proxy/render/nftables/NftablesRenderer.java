package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftApplier;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Table;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.RenderConfig;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import static dev.railyard.proxy.render.nftables.NftablesLayout.HAIRPIN_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.TABLE;
import static dev.railyard.proxy.render.nftables.NftablesLayout.TABLE_COMMENT;

/**
 * kube-proxy's nftables syncProxyRules for one IP family: from the state of the cluster and what the kernel
 * holds, the one transaction that brings table {@code kube-proxy} to the state kube-proxy would program, with
 * its chains, maps, sets, rules and element comments ({@link Layout#KUBE_PROXY}), or the same meaning with
 * endpoints as data ({@link Layout#FLAT}).
 *
 * <p>Stateful, one per family, used by one thread. {@link #plan} computes a sync; the caller applies it and then
 * calls {@link #committed} or {@link #failed}, and only {@code committed} changes what this renderer believes the
 * kernel holds. A full plan rewrites everything: the base chains, every active chain, every set and map (flushed
 * and filled again). A partial plan (kube-proxy's, since 1.31) rewrites only the chains of the service ports
 * whose service changed and only the map and set elements that differ. Per-service chains no service uses any
 * more are flushed at once and deleted by a later sync ({@link #STALE_CHAIN_GRACE}), since kernels before 6.2
 * notice only a little after a map element is deleted that the chain it pointed to is free; per-service sets and
 * maps no service uses are deleted at once, after the chains that used them were flushed.
 */
public final class NftablesRenderer {
    /** How long a flushed stale chain waits before it is deleted; kube-proxy's one second. */
    public static final Duration STALE_CHAIN_GRACE = Duration.ofSeconds(1);

    private final RenderConfig config;
    private final FamilySyntax syntax;
    private final Layout layout;
    private final TableSetup setup;
    private final ServicePortWriter writer;

    // What the kernel holds, as of the last committed plan.
    /** Rules of each service port as last written, in the state's (name) order. */
    private ServicePortRules[] rendered = new ServicePortRules[0];
    private ElementClaims claims = new ElementClaims();
    /** Per-service chains that exist in the kernel and are in use. */
    private Set<String> activeChains = new HashSet<>();
    /** Per-service chains flushed because nothing uses them, and since when, to be deleted after the grace. */
    private Map<String, Instant> staleChains = new LinkedHashMap<>();
    /** Per-service sets (affinity) and maps (endpoints) in the kernel. */
    private Set<String> serviceSets = new HashSet<>();
    private Set<String> serviceMaps = new HashSet<>();
    /** Whether the kernel has the flat layout's hairpin set while this renderer's layout has none. */
    private boolean strayHairpinSet;
    /** Whether a full sync of this renderer re-created the base chains yet (kube-proxy's "flushed"). */
    private boolean baseChainsRecreated;

    /** A renderer of kube-proxy's layout for a table the kernel does not have yet. */
    public NftablesRenderer(RenderConfig config) {
        this(config, Layout.KUBE_PROXY, NftApplier.TableObjects.none());
    }

    /**
     * @param existing what the kernel's table holds at start: per-service chains no service needs are flushed by
     *                 the first sync and deleted later, per-service sets and maps deleted (the other layout's
     *                 too)
     */
    public NftablesRenderer(RenderConfig config, Layout layout, NftApplier.TableObjects existing) {
        this.config = Objects.requireNonNull(config, "config");
        this.syntax = FamilySyntax.of(config.family());
        this.layout = Objects.requireNonNull(layout, "layout");
        this.setup = new TableSetup(config, syntax, layout);
        this.writer = new ServicePortWriter(config, syntax, layout);
        for (String chain : existing.chains()) {
            if (NftablesLayout.isServiceChain(chain)) {
                activeChains.add(chain);
            }
        }
        for (String set : existing.sets()) {
            if (NftablesLayout.isServiceContainer(set)) {
                serviceSets.add(set);
            }
        }
        for (String map : existing.maps()) {
            if (NftablesLayout.isServiceContainer(map)) {
                serviceMaps.add(map);
            }
        }
        strayHairpinSet = layout != Layout.FLAT && existing.sets().contains(HAIRPIN_IPS);
    }

    public RenderConfig config() {
        return config;
    }

    public Family family() {
        return syntax.table();
    }

    public Layout layout() {
        return layout;
    }

    /**
     * The whole ruleset as one self-contained nft script in kube-proxy's layout: it creates table
     * {@code kube-proxy} of this family, or replaces it whole (the table is added and deleted first), so loading
     * it once or twice gives the same ruleset. What {@code railyard render --proxy-mode nftables} prints.
     */
    public static Transaction script(RenderConfig config, ProxyState state) {
        return script(config, Layout.KUBE_PROXY, state);
    }

    /** {@link #script(RenderConfig, ProxyState)} in the given layout. */
    public static Transaction script(RenderConfig config, Layout layout, ProxyState state) {
        NftablesRenderer renderer = new NftablesRenderer(config, layout,
                NftApplier.TableObjects.none());
        // The table is deleted first, so its base chains need no re-creation of their own.
        renderer.baseChainsRecreated = true;
        Transaction tx = new Transaction(renderer.family(), TABLE);
        tx.add(new Table(TABLE_COMMENT)).delete(new Table(TABLE_COMMENT));
        tx.addAll(renderer.plan(state, null, Instant.EPOCH).sync());
        return tx;
    }

    /**
     * One sync, not yet applied.
     *
     * @param staleChainDeletion to apply first, on its own: deletes chains stale for longer than the grace
     *                           (empty when there are none); its failure only makes the next sync full
     * @param sync               the sync itself, one transaction
     */
    public record Plan(boolean full, Transaction staleChainDeletion, Transaction sync, Counts counts,
                       Pending pending) {
    }

    /** What a plan writes, for logs and metrics. */
    public record Counts(int chainsWritten, int rulesWritten, int elementsAdded, int elementsDeleted,
                         int staleChainsFlushed, int staleChainsDeleted, int servicePorts, int endpoints,
                         int servicePortsRewritten) {
    }

    /** What the renderer will believe once the plan is committed. Opaque to callers. */
    public static final class Pending {
        private final ServicePortRules[] rendered;
        private final ElementClaims claims;
        private final ElementClaims.Changes changes;
        private final Usage usage;
        private final boolean replacesAll;
        private final Map<String, Instant> staleChains;

        private Pending(ServicePortRules[] rendered, ElementClaims claims, ElementClaims.Changes changes,
                        Usage usage, boolean replacesAll, Map<String, Instant> staleChains) {
            this.rendered = rendered;
            this.claims = claims;
            this.changes = changes;
            this.usage = usage;
            this.replacesAll = replacesAll;
            this.staleChains = staleChains;
        }
    }

    /**
     * Which per-service chains, sets and maps a plan's rewritten ports use and its rewritten or removed ports no
     * longer use. Their names hold their port's name, so only that port can use them again: a partial plan needs
     * nothing of the ports it leaves alone.
     */
    private static final class Usage {
        final Set<String> chainsInUse = new HashSet<>();
        final Set<String> chainsOutOfUse = new HashSet<>();
        final Set<String> setsInUse = new HashSet<>();
        final Set<String> setsOutOfUse = new HashSet<>();
        final Set<String> mapsInUse = new HashSet<>();
        final Set<String> mapsOutOfUse = new HashSet<>();

        void forget(ServicePortRules gone) {
            chainsOutOfUse.addAll(gone.chains());
            setsOutOfUse.addAll(gone.sets());
            mapsOutOfUse.addAll(gone.maps());
        }

        void use(ServicePortRules rules) {
            chainsInUse.addAll(rules.chains());
            setsInUse.addAll(rules.sets());
            mapsInUse.addAll(rules.maps());
        }
    }

    /**
     * @param changedServices "namespace/name" of the services whose ports must be rewritten; null for a full sync
     * @param now             when the sync starts (stale chains are timed from it)
     */
    public Plan plan(ProxyState state, Set<String> changedServices, Instant now) {
        if (state.family() != config.family()) {
            throw new IllegalArgumentException("state is " + state.family() + " but renderer is " + config.family());
        }
        boolean full = changedServices == null;
        Map<String, Instant> stale = new LinkedHashMap<>(staleChains);
        Transaction deletion = new Transaction(family(), TABLE);
        Instant graceEnd = now.minus(STALE_CHAIN_GRACE);
        for (Map.Entry<String, Instant> entry : stale.entrySet()) {
            if (entry.getValue().isBefore(graceEnd)) {
                deletion.delete(Chain.named(entry.getKey()));
            }
        }

        Transaction tx = new Transaction(family(), TABLE);
        ElementClaims nextClaims = full ? new ElementClaims() : claims;
        ElementClaims.Changes changes = nextClaims.changes();
        if (full) {
            setup.write(tx, !baseChainsRecreated, strayHairpinSet,
                    state.serviceCidrs() != null ? state.serviceCidrs() : config.serviceCidrs());
        }

        List<ProxyState.Entry> entries = state.entries();
        ServicePortRules[] before = rendered;
        ServicePortRules[] after = new ServicePortRules[entries.size()];
        Usage usage = new Usage();
        writer.begin(tx);
        int rewritten = 0;
        int j = 0;
        for (int i = 0; i < entries.size(); i++) {
            ProxyState.Entry entry = entries.get(i);
            ServicePortName name = entry.service().name();
            ServicePortRules previous = null;
            while (j < before.length) {
                int order = before[j].name().compareTo(name);
                if (order > 0) {
                    break;
                }
                if (order == 0) {
                    previous = before[j++];
                    break;
                }
                forgetUnlessFull(full, before[j++], changes, usage);
            }
            boolean rewrite = full || previous == null || changedServices.contains(name.serviceKey());
            if (!rewrite) {
                after[i] = previous;
                continue;
            }
            rewritten++;
            if (previous != null) {
                forgetUnlessFull(full, previous, changes, usage);
            }
            ServicePortRules rules = writer.write(entry.service(), entry.endpoints(), state.zone());
            after[i] = rules;
            for (Element element : rules.elements()) {
                changes.claim(name, element);
            }
            usage.use(rules);
        }
        while (j < before.length) {
            forgetUnlessFull(full, before[j++], changes, usage);
        }
        int chainsWritten = writer.chainsWritten();
        int rulesWritten = writer.rulesWritten();
        writer.end();

        // Elements after every chain they may point to exists; deletions first, so a changed value is re-added.
        List<Element> deletions = changes.deletions();
        List<Element> additions = changes.additions();
        deletions.forEach(tx::delete);
        additions.forEach(tx::add);

        // Chains no service port uses any more: flushed now, deleted by a later sync. On a full sync that is
        // every per-service chain the kernel has but the state does not use.
        int staleFlushed = 0;
        for (String chain : full ? activeChains : usage.chainsOutOfUse) {
            if (!usage.chainsInUse.contains(chain) && !stale.containsKey(chain)) {
                tx.flush(Chain.named(chain));
                stale.put(chain, now);
                staleFlushed++;
            }
        }
        if (!stale.isEmpty()) {
            stale.keySet().removeAll(usage.chainsInUse);
        }
        // Sets and maps go at once: the chains whose rules used them were rewritten or flushed above.
        for (String set : full ? serviceSets : usage.setsOutOfUse) {
            if (!usage.setsInUse.contains(set)) {
                tx.delete(NftSet.named(set));
            }
        }
        for (String map : full ? serviceMaps : usage.mapsOutOfUse) {
            if (!usage.mapsInUse.contains(map)) {
                tx.delete(NftMap.named(map));
            }
        }

        Counts counts = new Counts(chainsWritten, rulesWritten, additions.size(), deletions.size(), staleFlushed,
                deletion.size(), state.serviceCount(), state.endpointCount(), rewritten);
        return new Plan(full, deletion, tx, counts, new Pending(after, nextClaims, changes, usage, full, stale));
    }

    /**
     * The plan's stale-chain deletion was applied (before the sync itself): those chains are gone, whatever
     * becomes of the sync.
     */
    public void staleDeletionApplied(Plan plan) {
        for (var op : plan.staleChainDeletion().operations()) {
            String chain = ((Chain) op.object()).name();
            staleChains.remove(chain);
            plan.pending().staleChains.remove(chain);
        }
    }

    /** The kernel took the plan: it is what the next plan starts from. */
    public void committed(Plan plan) {
        Pending p = plan.pending();
        p.changes.commit();
        rendered = p.rendered;
        claims = p.claims;
        Usage usage = p.usage;
        if (p.replacesAll) {
            activeChains = usage.chainsInUse;
            serviceSets = usage.setsInUse;
            serviceMaps = usage.mapsInUse;
            strayHairpinSet = false;
        } else {
            update(activeChains, usage.chainsOutOfUse, usage.chainsInUse);
            update(serviceSets, usage.setsOutOfUse, usage.setsInUse);
            update(serviceMaps, usage.mapsOutOfUse, usage.mapsInUse);
        }
        staleChains = p.staleChains;
        if (plan.full()) {
            baseChainsRecreated = true;
        }
    }

    private static void update(Set<String> names, Set<String> removed, Set<String> added) {
        names.removeAll(removed);
        names.addAll(added);
    }

    /**
     * The sync was refused. A transaction applies whole or not at all, so the kernel is as before the plan and so
     * is this renderer's view of it; the caller's next plan must still be full (kube-proxy's rule: what the
     * failed sync drained from the change tracker is gone). A refused stale-chain deletion leaves those chains
     * waiting, to be tried again.
     */
    public void failed(Plan plan) {
        Objects.requireNonNull(plan, "plan");
    }

    /** Per-service chains this renderer believes exist and are in use (tests, logs). */
    public Set<String> activeChains() {
        return Set.copyOf(activeChains);
    }

    /** Flushed chains waiting to be deleted (tests, logs). */
    public Set<String> staleChains() {
        return Set.copyOf(staleChains.keySet());
    }

    /** Whether flushed chains wait to be deleted by a later sync. */
    public boolean hasStaleChains() {
        return !staleChains.isEmpty();
    }

    /** A full plan starts from nothing: what the previous one wrote needs no forgetting. */
    private static void forgetUnlessFull(boolean full, ServicePortRules gone, ElementClaims.Changes changes,
                                         Usage usage) {
        if (full) {
            return;
        }
        for (Element element : gone.elements()) {
            changes.release(gone.name(), element);
        }
        usage.forget(gone);
    }
}
