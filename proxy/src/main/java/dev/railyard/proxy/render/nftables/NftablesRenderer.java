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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
    /** Renders ports for {@link ChangedObjects} to compare, apart from {@link #writer}'s counts. */
    private final ServicePortWriter comparisonWriter;

    // What the kernel holds, as of the last committed plan.
    /** Rules of each service port as last written, in the state's (name) order. */
    private ServicePortRules[] rendered = new ServicePortRules[0];
    private ElementClaims claims = new ElementClaims();
    /** Per-service chains that exist in the kernel and are in use. */
    private Set<String> activeChains = new HashSet<>();
    /** Per-service chains flushed because nothing uses them, and since when, to be deleted after the grace. */
    private Map<String, Instant> staleChains = new LinkedHashMap<>();
    /** Per-service sets (affinity) and maps (an earlier flat layout's endpoint maps) in the kernel. */
    private Set<String> serviceSets = new HashSet<>();
    private Set<String> serviceMaps = new HashSet<>();
    /** Whether the kernel has the flat layout's hairpin set while this renderer's layout has none. */
    private boolean strayHairpinSet;
    /** The flat layout's endpoint maps the kernel has (in any layout: a full sync deletes those no rule reads). */
    private Set<String> endpointMaps = new HashSet<>();
    /** The flat layout's blocks of keys in the endpoint maps, by dispatch chain. */
    private final EndpointKeyBlocks keyBlocks = new EndpointKeyBlocks();
    /** Whether a full sync of this renderer re-created the base chains yet (kube-proxy's "flushed"). */
    private boolean baseChainsRecreated;
    /** Whether {@link #claims} holds exactly what the kernel's shared sets and maps hold. */
    private boolean elementsKnown;
    /** Service ports per transaction of a split full sync; 0: a full sync is one transaction. */
    private int servicePortsPerTransaction;
    /** Commits a split full sync makes, at most, for the ports the kernel's table already dispatches to. */
    static final int RESYNC_COMMITS = 4;

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
        this.comparisonWriter = new ServicePortWriter(config, syntax, layout);
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
        adoptStrayClientAffinity(existing);
        endpointMaps = endpointMaps(existing);
    }

    /**
     * The flat layout's affinity set, left by a run in that layout, goes as a per-service set does: at the end of
     * the next full sync, once the endpoint chains whose rules name it have been rewritten or flushed.
     */
    private void adoptStrayClientAffinity(NftApplier.TableObjects objects) {
        if (layout != Layout.FLAT && objects.sets().contains(NftablesLayout.CLIENT_AFFINITY)) {
            serviceSets.add(NftablesLayout.CLIENT_AFFINITY);
        }
    }

    private static Set<String> endpointMaps(NftApplier.TableObjects objects) {
        Set<String> maps = new HashSet<>();
        objects.maps().stream().filter(NftablesLayout::isEndpointMap).forEach(maps::add);
        return maps;
    }

    /**
     * Splits full syncs into transactions of at most {@code servicePorts} service ports each, once the kernel's
     * elements are known ({@link #adoptKernelView}, or any committed sync): each commit then stays small, which the
     * kernel's cost per commit (it re-validates the jump graph) and a socket's buffers favour. The shared sets and
     * maps are not flushed then; only what differs is written, so traffic never meets an empty map. 0: one
     * transaction, with the sets and maps flushed and filled again in it, as kube-proxy does.
     */
    /**
     * A renderer for the same node, layout and split that knows nothing of the kernel's table, for a sync that
     * deletes the table and writes it whole ({@link #planRecreation}); it takes over once that sync is committed.
     */
    public NftablesRenderer forRecreatedTable() {
        NftablesRenderer fresh = new NftablesRenderer(config, layout, NftApplier.TableObjects.none());
        fresh.baseChainsRecreated = true; // the table goes first, its base chains with it
        fresh.servicePortsPerTransaction = servicePortsPerTransaction;
        return fresh;
    }

    /**
     * The table deleted and written whole in one transaction, as {@link #script} does: the kernel takes all of it
     * or none, so traffic never meets a half-written table, whatever the split of ordinary full syncs. For a renderer
     * from {@link #forRecreatedTable}.
     */
    public Plan planRecreation(ProxyState state, Instant now) {
        int split = servicePortsPerTransaction;
        servicePortsPerTransaction = 0;
        try {
            Plan plan = plan(state, null, now);
            Transaction tx = new Transaction(family(), TABLE);
            tx.add(new Table(TABLE_COMMENT)).delete(new Table(TABLE_COMMENT));
            tx.addAll(plan.sync());
            return new Plan(plan.full(), plan.staleChainDeletion(), List.of(tx), plan.counts(), plan.pending());
        } finally {
            servicePortsPerTransaction = split;
        }
    }

    public NftablesRenderer splitFullSyncs(int servicePorts) {
        if (servicePorts < 0) {
            throw new IllegalArgumentException("service ports per transaction must not be negative");
        }
        this.servicePortsPerTransaction = servicePorts;
        return this;
    }

    /**
     * A split full sync's service ports per transaction. A commit that adds a jump makes the kernel validate every
     * chain reachable from the base chains. New ports stay out of reach until the last transaction (their dispatch
     * keys go last), but the ports the kernel already dispatches to are reachable while they are rewritten, so
     * each commit of a re-sync validates the whole table: ~0.4 s at 50,000 services, 25 s over 62 commits of
     * 1,000 ports. A re-sync therefore takes at most {@link #RESYNC_COMMITS} commits of those ports.
     */
    private int portsPerTransaction() {
        int dispatched = claims.heldKeys(NftablesLayout.SERVICE_IPS);
        return Math.max(servicePortsPerTransaction, (dispatched + RESYNC_COMMITS - 1) / RESYNC_COMMITS);
    }

    /**
     * Whether the caller should list the kernel's table and hand it to {@link #adoptKernelView} before the next
     * full plan: a split full sync writes only what differs from what the kernel holds, so it reads the kernel
     * first every time. A full sync is the one that repairs what someone else changed in the table (kube-proxy's
     * flushes and refills every set and map), and a refused sync may mean exactly that.
     */
    public boolean needsKernelView() {
        return servicePortsPerTransaction > 0;
    }

    /**
     * What the kernel's table holds now, as listed: its chains, sets and maps and the elements of the shared sets
     * and maps. Everything else this renderer believed is dropped; the next plan must be full.
     */
    public void adoptKernelView(NftApplier.TableObjects objects, Map<String, List<Element>> elements) {
        activeChains = new HashSet<>();
        serviceSets = new HashSet<>();
        serviceMaps = new HashSet<>();
        for (String chain : objects.chains()) {
            if (NftablesLayout.isServiceChain(chain)) {
                activeChains.add(chain);
            }
        }
        objects.sets().stream().filter(NftablesLayout::isServiceContainer).forEach(serviceSets::add);
        objects.maps().stream().filter(NftablesLayout::isServiceContainer).forEach(serviceMaps::add);
        strayHairpinSet = layout != Layout.FLAT && objects.sets().contains(HAIRPIN_IPS);
        adoptStrayClientAffinity(objects);
        endpointMaps = endpointMaps(objects);
        if (layout == Layout.FLAT) {
            List<Long> keys = new ArrayList<>();
            for (String map : endpointMaps) {
                for (Element element : elements.getOrDefault(map, List.of())) {
                    parseKey(element).ifPresent(keys::add);
                }
            }
            keyBlocks.reserve(keys);
        }
        staleChains.keySet().retainAll(activeChains);
        activeChains.removeAll(staleChains.keySet());
        claims = ElementClaims.holding(elements);
        rendered = new ServicePortRules[0];
        elementsKnown = true;
    }

    /**
     * The shared sets and maps whose elements {@link #adoptKernelView} wants, in this renderer's layout, of those
     * the kernel has ({@code objects}, as listed).
     */
    public List<String> sharedContainers(NftApplier.TableObjects objects) {
        List<String> containers = new ArrayList<>();
        for (String container : layout == Layout.FLAT ? SHARED_FLAT : SHARED) {
            if (objects.sets().contains(container) || objects.maps().contains(container)) {
                containers.add(container);
            }
        }
        if (layout == Layout.FLAT) {
            endpointMaps(objects).stream().sorted().forEach(containers::add);
        }
        return containers;
    }

    /** The maps of verdicts that lead to the ports' chains, or to reject and drop. */
    private static final Set<String> DISPATCH_MAPS = Set.of(NftablesLayout.SERVICE_IPS,
            NftablesLayout.SERVICE_NODEPORTS, NftablesLayout.FIREWALL_IPS, NftablesLayout.NO_ENDPOINT_SERVICES,
            NftablesLayout.NO_ENDPOINT_NODEPORTS);

    private static final List<String> SHARED = List.of(NftablesLayout.CLUSTER_IPS, NftablesLayout.SERVICE_IPS,
            NftablesLayout.FIREWALL_IPS, NftablesLayout.NO_ENDPOINT_SERVICES, NftablesLayout.NO_ENDPOINT_NODEPORTS,
            NftablesLayout.SERVICE_NODEPORTS);
    private static final List<String> SHARED_FLAT = java.util.stream.Stream.of(SHARED,
            List.of(HAIRPIN_IPS)).flatMap(List::stream).toList();

    /** An endpoint map element's numgen key, if it is one (anything else someone put there is not). */
    private static java.util.Optional<Long> parseKey(Element element) {
        if (element.key().size() != 1) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(Long.parseLong(element.key().get(0)));
        } catch (NumberFormatException e) {
            return java.util.Optional.empty();
        }
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
     * @param transactions       the sync itself, to apply in order: one transaction, or for a full sync split by
     *                           {@link #splitFullSyncs} the table's setup, then the service ports a few at a time
     *                           (each port's chains with the map elements that point at them), then what goes
     */
    public record Plan(boolean full, Transaction staleChainDeletion, List<Transaction> transactions, Counts counts,
                       Pending pending) {
        public Plan {
            transactions = List.copyOf(transactions);
        }

        /** The sync as one transaction; IllegalStateException for a split one. */
        public Transaction sync() {
            if (transactions.size() != 1) {
                throw new IllegalStateException("this sync is split into " + transactions.size() + " transactions");
            }
            return transactions.get(0);
        }

        /** Operations in all of the sync's transactions. */
        public int operations() {
            return transactions.stream().mapToInt(Transaction::size).sum();
        }

        /** The chains {@link #staleChainDeletion} deletes. */
        public Set<String> staleChainNames() {
            Set<String> names = new LinkedHashSet<>();
            for (var op : staleChainDeletion.operations()) {
                names.add(((Chain) op.object()).name());
            }
            return names;
        }
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

        private final EndpointKeyBlocks.Changes blocks;
        private final Set<String> endpointMapsRead;

        private Pending(ServicePortRules[] rendered, ElementClaims claims, ElementClaims.Changes changes,
                        EndpointKeyBlocks.Changes blocks, Set<String> endpointMapsRead,
                        Usage usage, boolean replacesAll, Map<String, Instant> staleChains) {
            this.rendered = rendered;
            this.claims = claims;
            this.changes = changes;
            this.blocks = blocks;
            this.endpointMapsRead = endpointMapsRead;
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

        void forget(ServicePortRules gone) {
            chainsOutOfUse.addAll(gone.chains());
            setsOutOfUse.addAll(gone.sets());
        }

        void use(ServicePortRules rules) {
            chainsInUse.addAll(rules.chains());
            setsInUse.addAll(rules.sets());
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

        boolean split = full && servicePortsPerTransaction > 0 && elementsKnown;
        Transaction tx = new Transaction(family(), TABLE);
        List<Transaction> transactions = new ArrayList<>();
        transactions.add(tx);
        // A full sync starts its claims from nothing; split, it claims against what the kernel holds.
        ElementClaims nextClaims = !full ? claims : split ? ElementClaims.holding(claims.held()) : new ElementClaims();
        ElementClaims.Changes changes = nextClaims.changes();
        if (full) {
            setup.write(tx, !baseChainsRecreated, strayHairpinSet, !split,
                    state.serviceCidrs() != null ? state.serviceCidrs() : config.serviceCidrs(), endpointMaps);
        }

        List<ProxyState.Entry> entries = state.entries();
        ServicePortRules[] before = rendered;
        ServicePortRules[] after = new ServicePortRules[entries.size()];
        Usage usage = new Usage();
        Map<ServicePortName, Transaction> transactionOf = split ? new HashMap<>() : null;
        Transaction current = tx;
        int perTransaction = split ? portsPerTransaction() : 0;
        int inCurrent = perTransaction; // the setup's transaction takes no ports when split
        EndpointKeyBlocks.Changes blocks = keyBlocks.changes();
        writer.begin(current, blocks::base);
        ChangedObjects changed = new ChangedObjects();
        Set<String> endpointMapsRead = new HashSet<>();
        int rewritten = 0;
        int j = 0;
        List<UnchangedRuns.Run> runs = full ? null : UnchangedRuns.between(entries, before, changedServices);
        int nextRun = 0;
        for (int i = 0; i < entries.size(); i++) {
            if (runs != null && nextRun < runs.size() && runs.get(nextRun).entryStart() == i) {
                UnchangedRuns.Run run = runs.get(nextRun++);
                while (j < run.ruleStart()) { // ports of a changed service that are gone
                    forgetUnlessFull(false, before[j++], changes, usage);
                }
                System.arraycopy(before, run.ruleStart(), after, i, run.length());
                j = run.ruleStart() + run.length();
                i += run.length() - 1;
                continue;
            }
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
            if (split) {
                if (inCurrent == perTransaction) {
                    current = new Transaction(family(), TABLE);
                    transactions.add(current);
                    writer.retarget(current);
                    inCurrent = 0;
                }
                inCurrent++;
                transactionOf.put(name, current);
            }
            ServicePortRules rules;
            if (layout == Layout.FLAT && previous != null && !full) {
                rules = writeChangedObjects(previous.source(), entry, state.zone(), current, changed, blocks);
                endpointMapsRead.addAll(comparisonWriter.endpointMapsRead());
            } else {
                rules = writer.write(entry, state.zone());
            }
            after[i] = rules;
            for (Element element : rules.elements()) {
                changes.claim(name, element);
            }
            usage.use(rules);
        }
        while (j < before.length) {
            forgetUnlessFull(full, before[j++], changes, usage);
        }
        int chainsWritten = writer.chainsWritten() + changed.chainsWritten();
        int rulesWritten = writer.rulesWritten() + changed.rulesWritten();
        endpointMapsRead.addAll(writer.endpointMapsRead());
        if (split) {
            // The kernel finds a set by name by walking the table's sets in the order they were made; made in the
            // first transaction, the endpoint maps stay near the head of that list, and the ~12,000 rules that
            // name one at 10,000 services do not walk past every affinity set made after them.
            endpointMapsRead.stream().filter(map -> !endpointMaps.contains(map)).sorted()
                    .forEach(map -> tx.add(NftablesLayout.endpointMapDeclaration(map, syntax)));
        }
        writer.end();

        // What no port uses any more goes last: in a split sync, after every port's new elements are in.
        Transaction last = split ? new Transaction(family(), TABLE) : tx;
        if (split) {
            changes.releaseUnclaimed();
        }
        // Elements after every chain they may point to exists: each in its port's transaction when split. New
        // keys of the dispatch maps wait for the last one: a commit that adds a jump or goto makes the kernel
        // validate every chain reachable from the base chains, and reachable through these maps is every port
        // written before. Sent with its port, each would make the first full sync's validation quadratic.
        int elementsAdded = 0;
        int elementsDeleted = 0;
        for (ElementClaims.Operation op : changes.operations()) {
            Transaction into = !split ? tx : op.owner() == null || op.newKey()
                    && DISPATCH_MAPS.contains(op.element().container()) ? last : transactionOf.get(op.owner());
            if (op.delete()) {
                into.delete(op.element());
                elementsDeleted++;
            } else {
                into.add(op.element());
                elementsAdded++;
            }
        }

        // Chains no service port uses any more: flushed now, deleted by a later sync. On a full sync that is
        // every per-service chain the kernel has but the state does not use.
        int staleFlushed = 0;
        for (String chain : full ? activeChains : usage.chainsOutOfUse) {
            if (!usage.chainsInUse.contains(chain) && !stale.containsKey(chain)) {
                last.flush(Chain.named(chain));
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
                last.delete(NftSet.named(set));
            }
        }
        if (full) {
            for (String map : serviceMaps) {
                last.delete(NftMap.named(map));
            }
            // A shard no block lies in any more; its elements went with the claims above.
            for (String map : endpointMaps) {
                if (!endpointMapsRead.contains(map)) {
                    last.delete(NftMap.named(map));
                }
            }
        }
        if (split && !last.isEmpty()) {
            transactions.add(last);
        }

        Counts counts = new Counts(chainsWritten, rulesWritten, elementsAdded, elementsDeleted, staleFlushed,
                deletion.size(), state.serviceCount(), state.endpointCount(), rewritten);
        return new Plan(full, deletion, transactions, counts,
                new Pending(after, nextClaims, changes, blocks, endpointMapsRead, usage, full, stale));
    }

    /**
     * The plan's stale-chain deletion was applied (before the sync itself): those chains are gone, whatever
     * becomes of the sync.
     */
    public void staleDeletionApplied(Plan plan) {
        for (String chain : plan.staleChainNames()) {
            staleChains.remove(chain);
            plan.pending().staleChains.remove(chain);
        }
    }

    /**
     * A flat layout port rewritten by a partial sync: rendered as the kernel has it and as it is now, and only the
     * chains, sets and maps that differ written into {@code into}.
     */
    private ServicePortRules writeChangedObjects(ProxyState.Entry before, ProxyState.Entry now, String zone,
                                                 Transaction into, ChangedObjects changed,
                                                 EndpointKeyBlocks.Changes blocks) {
        Transaction previous = new Transaction(family(), TABLE);
        comparisonWriter.begin(previous, (chain, count) -> {
            EndpointKeyBlocks.Block block = keyBlocks.owned(chain);
            return block == null ? -1 : block.base();
        });
        comparisonWriter.write(before, zone);
        Transaction current = new Transaction(family(), TABLE);
        comparisonWriter.begin(current, blocks::base);
        ServicePortRules rules = comparisonWriter.write(now, zone);
        comparisonWriter.end();
        changed.copy(previous, current, into);
        return rules;
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
            serviceMaps = new HashSet<>();
            strayHairpinSet = false;
            endpointMaps = new HashSet<>(p.endpointMapsRead);
        } else {
            update(activeChains, usage.chainsOutOfUse, usage.chainsInUse);
            update(serviceSets, usage.setsOutOfUse, usage.setsInUse);
            endpointMaps.addAll(p.endpointMapsRead);
        }
        Set<String> chainsGone = new HashSet<>(usage.chainsOutOfUse);
        chainsGone.removeAll(usage.chainsInUse);
        p.blocks.commit(p.replacesAll, chainsGone);
        staleChains = p.staleChains;
        elementsKnown = true;
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
        failed(plan, 0);
    }

    /**
     * The sync's transaction number {@code applied} (0-based) was refused, those before it applied: a split full
     * sync is only partly in the kernel; the next full plan starts from a listing ({@link #needsKernelView}).
     */
    public void failed(Plan plan, int applied) {
        Objects.requireNonNull(plan, "plan");
        elementsKnown = false;
        plan.pending().blocks.abandon();
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
