package dev.railyard.proxy.render.nftables;

import dev.railyard.nftables.Chain;
import dev.railyard.nftables.Element;
import dev.railyard.nftables.Family;
import dev.railyard.nftables.NftMap;
import dev.railyard.nftables.NftSet;
import dev.railyard.nftables.Rule;
import dev.railyard.nftables.Table;
import dev.railyard.nftables.Transaction;
import dev.railyard.proxy.model.Cidr;
import dev.railyard.proxy.model.Endpoint;
import dev.railyard.proxy.model.IpAddresses;
import dev.railyard.proxy.model.IpFamily;
import dev.railyard.proxy.model.ProxyState;
import dev.railyard.proxy.model.ServicePort;
import dev.railyard.proxy.model.ServicePortName;
import dev.railyard.proxy.render.EndpointSelection;
import dev.railyard.proxy.render.RenderConfig;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import static dev.railyard.proxy.render.nftables.NftablesLayout.AFFINITY_PREFIX;
import static dev.railyard.proxy.render.nftables.NftablesLayout.BASE_CHAINS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.CLUSTER_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.CLUSTER_IPS_CHECK;
import static dev.railyard.proxy.render.nftables.NftablesLayout.ENDPOINT_PREFIX;
import static dev.railyard.proxy.render.nftables.NftablesLayout.EXTERNAL_PREFIX;
import static dev.railyard.proxy.render.nftables.NftablesLayout.FIREWALL_CHECK;
import static dev.railyard.proxy.render.nftables.NftablesLayout.FIREWALL_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.FIREWALL_PREFIX;
import static dev.railyard.proxy.render.nftables.NftablesLayout.JUMPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.LOCAL_PREFIX;
import static dev.railyard.proxy.render.nftables.NftablesLayout.MARK_MASQ;
import static dev.railyard.proxy.render.nftables.NftablesLayout.MASQUERADING;
import static dev.railyard.proxy.render.nftables.NftablesLayout.NODEPORT_ENDPOINTS_CHECK;
import static dev.railyard.proxy.render.nftables.NftablesLayout.NODEPORT_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.NO_ENDPOINT_NODEPORTS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.NO_ENDPOINT_SERVICES;
import static dev.railyard.proxy.render.nftables.NftablesLayout.REJECT_CHAIN;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICES;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICE_ENDPOINTS_CHECK;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICE_IPS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICE_NODEPORTS;
import static dev.railyard.proxy.render.nftables.NftablesLayout.SERVICE_PREFIX;
import static dev.railyard.proxy.render.nftables.NftablesLayout.TABLE;
import static dev.railyard.proxy.render.nftables.NftablesLayout.TABLE_COMMENT;

/**
 * kube-proxy's nftables syncProxyRules for one IP family: from the state of the cluster and what the kernel
 * holds, the one transaction that brings table {@code kube-proxy} to the state kube-proxy would program, with
 * its chains, maps, sets, rules and element comments.
 *
 * <p>Stateful, one per family, used by one thread. {@link #plan} computes a sync; the caller applies it and then
 * calls {@link #committed} or {@link #failed}, and only {@code committed} changes what this renderer believes the
 * kernel holds. A full plan rewrites everything: the base chains, every active chain, every set and map (flushed
 * and filled again). A partial plan (kube-proxy's, since 1.31) rewrites only the chains of the service ports
 * whose service changed and only the map and set elements that differ. Per-service chains no service uses any
 * more are flushed at once and deleted by a later sync ({@link #STALE_CHAIN_GRACE}), since kernels before 6.2
 * notice only a little after a map element is deleted that the chain it pointed to is free.
 */
public final class NftablesRenderer {
    /** How long a flushed stale chain waits before it is deleted; kube-proxy's one second. */
    public static final Duration STALE_CHAIN_GRACE = Duration.ofSeconds(1);

    private final RenderConfig config;
    private final Family family;
    private final String ipX;
    private final String addressType;
    private final String noLocalhost;
    private final byte[] nodeIp;
    private final EndpointSelection selection = new EndpointSelection();

    // What the kernel holds, as of the last committed plan.
    /** Rules of each service port as last written, in the state's (name) order. */
    private ServicePortRules[] rendered = new ServicePortRules[0];
    private ElementClaims claims = new ElementClaims();
    /** Per-service chains that exist in the kernel and are in use. */
    private Set<String> activeChains = new HashSet<>();
    /** Per-service chains flushed because nothing uses them, and since when, to be deleted after the grace. */
    private Map<String, Instant> staleChains = new LinkedHashMap<>();
    /** Affinity sets in the kernel. */
    private Set<String> affinitySets = new HashSet<>();
    /** Whether a full sync of this renderer re-created the base chains yet (kube-proxy's "flushed"). */
    private boolean baseChainsRecreated;

    /**
     * @param existingChains chains the kernel's table holds at start (per-service ones no service needs are
     *                       flushed by the first sync and deleted later); empty for a new table
     * @param existingSets   sets the kernel's table holds at start (stale affinity sets are deleted)
     */
    public NftablesRenderer(RenderConfig config, Collection<String> existingChains,
                            Collection<String> existingSets) {
        this.config = Objects.requireNonNull(config, "config");
        boolean ipv6 = config.family() == IpFamily.V6;
        this.family = ipv6 ? Family.IP6 : Family.IP;
        this.ipX = ipv6 ? "ip6" : "ip";
        this.addressType = ipv6 ? "ipv6_addr" : "ipv4_addr";
        this.noLocalhost = ipv6 ? "ip6 daddr != ::1" : "ip daddr != 127.0.0.0/8";
        this.nodeIp = config.nodeIps().isEmpty() ? null : IpAddresses.parse(config.nodeIps().get(0)).getBytes();
        for (String chain : existingChains) {
            if (NftablesLayout.isServiceChain(chain)) {
                activeChains.add(chain);
            }
        }
        for (String set : existingSets) {
            if (NftablesLayout.isAffinitySet(set)) {
                affinitySets.add(set);
            }
        }
    }

    public RenderConfig config() {
        return config;
    }

    public Family family() {
        return family;
    }

    /**
     * The whole ruleset as one self-contained nft script: it creates table {@code kube-proxy} of this family, or
     * replaces it whole (the table is added and deleted first), so loading it once or twice gives the same
     * ruleset. What {@code railyard render --proxy-mode nftables} prints.
     */
    public static Transaction script(RenderConfig config, ProxyState state) {
        NftablesRenderer renderer = new NftablesRenderer(config, List.of(), List.of());
        // The table is deleted first, so its base chains need no re-creation of their own.
        renderer.baseChainsRecreated = true;
        Transaction tx = new Transaction(renderer.family, TABLE);
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
        private final Set<String> activeChains;
        private final Map<String, Instant> staleChains;
        private final Set<String> affinitySets;

        private Pending(ServicePortRules[] rendered, ElementClaims claims, ElementClaims.Changes changes,
                        Set<String> activeChains, Map<String, Instant> staleChains, Set<String> affinitySets) {
            this.rendered = rendered;
            this.claims = claims;
            this.changes = changes;
            this.activeChains = activeChains;
            this.staleChains = staleChains;
            this.affinitySets = affinitySets;
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
        Transaction deletion = new Transaction(family, TABLE);
        int staleDeleted = 0;
        Instant graceEnd = now.minus(STALE_CHAIN_GRACE);
        for (Map.Entry<String, Instant> entry : stale.entrySet()) {
            if (entry.getValue().isBefore(graceEnd)) {
                deletion.delete(Chain.named(entry.getKey()));
                staleDeleted++;
            }
        }

        Transaction tx = new Transaction(family, TABLE);
        Writer writer = new Writer(tx);
        ElementClaims nextClaims = full ? new ElementClaims() : claims;
        ElementClaims.Changes changes = nextClaims.changes();
        if (full) {
            writeSetup(tx, !baseChainsRecreated);
        }

        List<ProxyState.Entry> entries = state.entries();
        ServicePortRules[] before = rendered;
        ServicePortRules[] after = new ServicePortRules[entries.size()];
        Set<String> active = full ? new HashSet<>() : new HashSet<>(activeChains);
        Set<String> sets = new HashSet<>();
        Set<String> goneChains = new HashSet<>();
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
                forget(before[j++], changes, active, goneChains);
            }
            boolean rewrite = full || previous == null || changedServices.contains(name.serviceKey());
            if (!rewrite) {
                after[i] = previous;
                sets.addAll(previous.affinitySets());
                continue;
            }
            rewritten++;
            if (previous != null && !full) {
                forget(previous, changes, active, goneChains);
            }
            ServicePortRules rules = writer.servicePort(entry.service(), entry.endpoints());
            after[i] = rules;
            for (Element element : rules.elements()) {
                changes.claim(name, element);
            }
            active.addAll(rules.chains());
            goneChains.removeAll(rules.chains());
            sets.addAll(rules.affinitySets());
        }
        while (j < before.length) {
            forget(before[j++], changes, active, goneChains);
        }
        selection.clear();

        // Elements after every chain they may point to exists; deletions first, so a changed value is re-added.
        List<Element> deletions = changes.deletions();
        List<Element> additions = changes.additions();
        deletions.forEach(tx::delete);
        additions.forEach(tx::add);

        // Chains no service port uses any more: flushed now, deleted by a later sync. On a full sync that is
        // every per-service chain the kernel has but the state does not use.
        Collection<String> candidates = full ? activeChains : goneChains;
        int staleFlushed = 0;
        for (String chain : candidates) {
            if (!active.contains(chain) && !stale.containsKey(chain)) {
                tx.flush(Chain.named(chain));
                stale.put(chain, now);
                staleFlushed++;
            }
        }
        stale.keySet().removeAll(active);
        for (String set : affinitySets) {
            if (!sets.contains(set)) {
                tx.delete(NftSet.named(set));
            }
        }

        Counts counts = new Counts(writer.chains, writer.rules, additions.size(), deletions.size(), staleFlushed,
                staleDeleted, state.serviceCount(), state.endpointCount(), rewritten);
        return new Plan(full, deletion, tx, counts,
                new Pending(after, nextClaims, changes, active, stale, sets));
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
        activeChains = p.activeChains;
        staleChains = p.staleChains;
        affinitySets = p.affinitySets;
        if (plan.full()) {
            baseChainsRecreated = true;
        }
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

    private static void forget(ServicePortRules gone, ElementClaims.Changes changes, Set<String> active,
                               Set<String> goneChains) {
        for (Element element : gone.elements()) {
            changes.release(gone.name(), element);
        }
        active.removeAll(gone.chains());
        goneChains.addAll(gone.chains());
    }

    /** kube-proxy's setupNFTables: table, base chains, top-level chains and their rules, sets and maps. */
    private void writeSetup(Transaction tx, boolean recreateBaseChains) {
        tx.add(new Table(TABLE_COMMENT));
        if (recreateBaseChains) {
            // Once per process: a base chain whose hook or priority changed cannot be re-added in place.
            for (Chain chain : BASE_CHAINS) {
                tx.add(Chain.named(chain.name())).delete(Chain.named(chain.name()));
            }
        }
        for (Chain chain : BASE_CHAINS) {
            tx.add(chain).flush(chain);
        }
        Set<String> created = new HashSet<>();
        for (NftablesLayout.Jump jump : JUMPS) {
            ensureTopLevel(tx, jump.to(), created);
            tx.add(Rule.of(jump.from(), jump.match().isEmpty() ? "jump " + jump.to()
                    : jump.match() + " jump " + jump.to()));
        }
        for (String chain : List.of(SERVICES, CLUSTER_IPS_CHECK, MASQUERADING, MARK_MASQ)) {
            ensureTopLevel(tx, chain, created);
        }
        String mark = config.masqueradeMark();
        tx.add(Rule.of(MARK_MASQ, "mark set mark or " + mark));
        tx.add(Rule.of(MASQUERADING, "mark and " + mark + " == 0 return"));
        tx.add(Rule.of(MASQUERADING, "mark set mark xor " + mark));
        tx.add(Rule.of(MASQUERADING, "masquerade fully-random"));

        tx.add(NftSet.of(CLUSTER_IPS, addressType, "Active ClusterIPs"));
        tx.add(new Rule(CLUSTER_IPS_CHECK, ipX + " daddr @" + CLUSTER_IPS + " reject",
                "Reject traffic to invalid ports of ClusterIPs"));
        if (!config.serviceCidrs().isEmpty()) {
            tx.add(new Rule(CLUSTER_IPS_CHECK, ipX + " daddr { " + String.join(",", config.serviceCidrs())
                    + " } drop", "Drop traffic to unallocated ClusterIPs"));
        }

        // add+delete rather than delete alone, which would fail when the set does not exist.
        NftSet nodePortIps = NftSet.of(NODEPORT_IPS, addressType, "IPs that accept NodePort traffic");
        tx.add(nodePortIps);
        boolean allAddresses = config.nodePortsOnAllAddresses();
        if (allAddresses) {
            tx.delete(NftSet.named(NODEPORT_IPS));
        } else {
            tx.flush(NftSet.named(NODEPORT_IPS));
            for (String ip : config.nodePortIps()) {
                // Localhost NodePorts are not supported in nftables mode (no route_localnet, CVE-2020-8558).
                if (!IpAddresses.parse(ip).isLoopback()) {
                    tx.add(Element.ofSet(NODEPORT_IPS, List.of(ip)));
                }
            }
        }

        String addressProtoPort = addressType + " . inet_proto . inet_service : verdict";
        tx.add(NftMap.of(NO_ENDPOINT_SERVICES, addressProtoPort,
                "vmap to drop or reject packets to services with no endpoints"));
        tx.add(NftMap.of(NO_ENDPOINT_NODEPORTS, "inet_proto . inet_service : verdict",
                "vmap to drop or reject packets to service nodeports with no endpoints"));
        Chain reject = new Chain(REJECT_CHAIN, null, "helper for @no-endpoint-services / @no-endpoint-nodeports");
        tx.add(reject).flush(reject);
        tx.add(Rule.of(REJECT_CHAIN, "reject"));
        tx.add(Rule.of(SERVICE_ENDPOINTS_CHECK,
                ipX + " daddr . meta l4proto . th dport vmap @" + NO_ENDPOINT_SERVICES));
        tx.add(Rule.of(NODEPORT_ENDPOINTS_CHECK, (allAddresses ? noLocalhost : ipX + " daddr @" + NODEPORT_IPS)
                + " meta l4proto . th dport vmap @" + NO_ENDPOINT_NODEPORTS));

        tx.add(NftMap.of(FIREWALL_IPS, addressProtoPort,
                "destinations that are subject to LoadBalancerSourceRanges"));
        ensureTopLevel(tx, FIREWALL_CHECK, created);
        tx.add(Rule.of(FIREWALL_CHECK, ipX + " daddr . meta l4proto . th dport vmap @" + FIREWALL_IPS));

        tx.add(NftMap.of(SERVICE_IPS, addressProtoPort, "ClusterIP, ExternalIP and LoadBalancer IP traffic"));
        tx.add(NftMap.of(SERVICE_NODEPORTS, "inet_proto . inet_service : verdict", "NodePort traffic"));
        tx.add(Rule.of(SERVICES, ipX + " daddr . meta l4proto . th dport vmap @" + SERVICE_IPS));
        tx.add(Rule.of(SERVICES, (allAddresses ? "fib daddr type local " + noLocalhost
                : ipX + " daddr @" + NODEPORT_IPS) + " meta l4proto . th dport vmap @" + SERVICE_NODEPORTS));

        // The elements are written again whole: the containers start empty.
        for (String container : List.of(CLUSTER_IPS, SERVICE_IPS, FIREWALL_IPS, NO_ENDPOINT_SERVICES,
                NO_ENDPOINT_NODEPORTS, SERVICE_NODEPORTS)) {
            tx.flush(container.equals(CLUSTER_IPS) ? NftSet.named(container) : NftMap.named(container));
        }
    }

    private static void ensureTopLevel(Transaction tx, String chain, Set<String> created) {
        if (created.add(chain)) {
            tx.add(Chain.named(chain)).flush(Chain.named(chain));
        }
    }

    /** Writes one service port's chains and rules into a transaction, counting what it wrote. */
    private final class Writer {
        private final Transaction tx;
        int chains;
        int rules;

        Writer(Transaction tx) {
            this.tx = tx;
        }

        private void chain(String name, List<String> names) {
            if (!names.contains(name)) {
                names.add(name);
                tx.add(Chain.named(name)).flush(Chain.named(name));
                chains++;
            }
        }

        private void rule(String chain, String body) {
            tx.add(Rule.of(chain, body));
            rules++;
        }

        private void rule(String chain, String body, String comment) {
            tx.add(new Rule(chain, body, comment));
            rules++;
        }

        ServicePortRules servicePort(ServicePort service, List<Endpoint> endpoints) {
            ServicePortName name = service.name();
            String protocol = service.protocol().lowerCase();
            String port = Integer.toString(service.port());
            String comment = name.toString();
            selection.select(service, endpoints, config.nodeName());
            boolean affinity = service.clientIpAffinity();
            List<String> chainNames = new ArrayList<>();
            List<String> affinitySetNames = new ArrayList<>();
            List<Element> elements = new ArrayList<>();

            for (int i = 0; i < selection.reachableCount(); i++) {
                Endpoint ep = selection.reachable(i);
                chain(ENDPOINT_PREFIX + ep.nftablesChainBase(), chainNames);
                if (affinity) {
                    affinitySetNames.add(AFFINITY_PREFIX + ep.nftablesChainBase());
                }
            }
            String base = name.nftablesChainBase();
            String clusterChain = SERVICE_PREFIX + base;
            String localChain = LOCAL_PREFIX + base;
            String externalChain = EXTERNAL_PREFIX + base;
            String firewallChain = FIREWALL_PREFIX + base;
            boolean usesClusterChain = selection.clusterCount() > 0 && service.usesClusterEndpoints();
            if (usesClusterChain) {
                chain(clusterChain, chainNames);
            }
            boolean usesLocalChain = selection.localCount() > 0 && service.usesLocalEndpoints();
            if (usesLocalChain) {
                chain(localChain, chainNames);
            }
            boolean hasEndpoints = selection.hasAnyEndpoints();
            String internalChain = service.internalPolicyLocal() ? localChain : clusterChain;
            boolean hasInternalEndpoints = hasEndpoints
                    && !(service.internalPolicyLocal() && selection.localCount() == 0);
            String externalPolicyChain = service.externalPolicyLocal() ? localChain : clusterChain;
            boolean hasExternalEndpoints = hasEndpoints
                    && !(service.externalPolicyLocal() && selection.localCount() == 0);
            boolean usesExternalChain = hasEndpoints && service.externallyAccessible();
            if (usesExternalChain) {
                chain(externalChain, chainNames);
            }
            String internalVerdict = !hasEndpoints ? "goto " + REJECT_CHAIN : "drop";
            String externalVerdict = !hasEndpoints ? "goto " + REJECT_CHAIN : "drop";

            elements.add(Element.ofSet(CLUSTER_IPS, List.of(service.clusterIp())));
            if (hasInternalEndpoints) {
                elements.add(Element.ofMap(SERVICE_IPS, List.of(service.clusterIp(), protocol, port),
                        "goto " + internalChain, null));
            } else {
                elements.add(Element.ofMap(NO_ENDPOINT_SERVICES, List.of(service.clusterIp(), protocol, port),
                        internalVerdict, comment));
            }
            for (String externalIp : service.externalIps()) {
                if (hasEndpoints) {
                    elements.add(Element.ofMap(SERVICE_IPS, List.of(externalIp, protocol, port),
                            "goto " + externalChain, null));
                }
                if (!hasExternalEndpoints) {
                    elements.add(Element.ofMap(NO_ENDPOINT_SERVICES, List.of(externalIp, protocol, port),
                            externalVerdict, comment));
                }
            }
            boolean usesFirewallChain = service.restrictsLoadBalancerSources();
            if (usesFirewallChain) {
                chain(firewallChain, chainNames);
            }
            for (String lbIp : service.loadBalancerIps()) {
                if (hasEndpoints) {
                    elements.add(Element.ofMap(SERVICE_IPS, List.of(lbIp, protocol, port),
                            "goto " + externalChain, null));
                }
                if (usesFirewallChain) {
                    elements.add(Element.ofMap(FIREWALL_IPS, List.of(lbIp, protocol, port),
                            "goto " + firewallChain, null));
                }
            }
            if (!hasExternalEndpoints) {
                for (String lbIp : service.loadBalancerIps()) {
                    elements.add(Element.ofMap(NO_ENDPOINT_SERVICES, List.of(lbIp, protocol, port),
                            externalVerdict, comment));
                }
            }
            if (service.nodePort() != 0) {
                String nodePort = Integer.toString(service.nodePort());
                if (hasEndpoints) {
                    elements.add(Element.ofMap(SERVICE_NODEPORTS, List.of(protocol, nodePort),
                            "goto " + externalChain, null));
                }
                if (!hasExternalEndpoints) {
                    elements.add(Element.ofMap(NO_ENDPOINT_NODEPORTS, List.of(protocol, nodePort),
                            externalVerdict, comment));
                }
            }

            if (hasInternalEndpoints) {
                if (config.masqueradeAll()) {
                    rule(internalChain, ipX + " daddr " + service.clusterIp() + " jump " + MARK_MASQ);
                } else if (config.clusterCidr() != null) {
                    // Off-cluster traffic to a service IP (a static route to any node) may leave the node again.
                    rule(internalChain, ipX + " daddr " + service.clusterIp() + " " + ipX + " saddr != "
                            + config.clusterCidr() + " jump " + MARK_MASQ);
                }
            }
            if (usesExternalChain) {
                if (!service.externalPolicyLocal()) {
                    rule(externalChain, "jump " + MARK_MASQ);
                } else {
                    if (config.clusterCidr() != null) {
                        rule(externalChain, ipX + " saddr " + config.clusterCidr() + " goto " + clusterChain,
                                "short-circuit pod traffic");
                    }
                    rule(externalChain, "fib saddr type local jump " + MARK_MASQ, "masquerade local traffic");
                    rule(externalChain, "fib saddr type local goto " + clusterChain, "short-circuit local traffic");
                }
                if (hasExternalEndpoints) {
                    rule(externalChain, "goto " + externalPolicyChain);
                }
            }
            if (usesFirewallChain) {
                rule(firewallChain, ipX + " saddr != { " + allowedSources(service) + " } drop");
            }
            if (affinity) {
                for (String set : affinitySetNames) {
                    tx.add(new NftSet(set, addressType, List.of("dynamic", "timeout"),
                            service.affinityTimeoutSeconds(), null));
                }
            }
            if (usesClusterChain) {
                writeEndpointDispatch(clusterChain, affinity, false);
            }
            if (usesLocalChain) {
                writeEndpointDispatch(localChain, affinity, true);
            }
            for (int i = 0; i < selection.reachableCount(); i++) {
                Endpoint ep = selection.reachable(i);
                String chain = ENDPOINT_PREFIX + ep.nftablesChainBase();
                rule(chain, ipX + " saddr " + ep.ip() + " jump " + MARK_MASQ);
                if (affinity) {
                    rule(chain, "update @" + AFFINITY_PREFIX + ep.nftablesChainBase() + " { " + ipX + " saddr }");
                }
                rule(chain, "meta l4proto " + protocol + " dnat to " + ep.hostPort());
            }
            return new ServicePortRules(name, List.copyOf(elements), List.copyOf(chainNames),
                    List.copyOf(affinitySetNames));
        }

        /** Affinity first (a client seen before goes to its endpoint), then an even random spread. */
        private void writeEndpointDispatch(String chain, boolean affinity, boolean local) {
            int count = local ? selection.localCount() : selection.clusterCount();
            if (affinity) {
                for (int i = 0; i < count; i++) {
                    String base = (local ? selection.local(i) : selection.cluster(i)).nftablesChainBase();
                    rule(chain, ipX + " saddr @" + AFFINITY_PREFIX + base + " goto " + ENDPOINT_PREFIX + base);
                }
            }
            StringBuilder body = new StringBuilder("numgen random mod ").append(count).append(" vmap { ");
            for (int i = 0; i < count; i++) {
                if (i > 0) {
                    body.append(" , ");
                }
                Endpoint ep = local ? selection.local(i) : selection.cluster(i);
                body.append(i).append(" : goto ").append(ENDPOINT_PREFIX).append(ep.nftablesChainBase());
            }
            rule(chain, body.append(" }").toString());
        }

        /**
         * The source ranges, and the load-balancer IPs too when a range holds the node's IP: a VIP bound on the
         * node is the source of the node's own requests to it.
         */
        private String allowedSources(ServicePort service) {
            StringBuilder sources = new StringBuilder();
            boolean allowFromNode = false;
            for (Cidr range : service.loadBalancerSourceRanges()) {
                if (sources.length() > 0) {
                    sources.append(" , ");
                }
                sources.append(range);
                allowFromNode |= nodeIp != null && range.contains(nodeIp);
            }
            if (allowFromNode) {
                for (String lbIp : service.loadBalancerIps()) {
                    sources.append(" , ").append(lbIp);
                }
            }
            return sources.toString();
        }
    }

    /** What one service port put in the kernel. */
    record ServicePortRules(ServicePortName name, List<Element> elements, List<String> chains,
                            List<String> affinitySets) {
    }

    /** kube-proxy's op counts per kind, for tests that compare them. */
    static Map<String, Integer> operationCounts(Transaction tx) {
        Map<String, Integer> counts = new HashMap<>();
        tx.operations().forEach(op -> counts.merge(op.verb() + " " + op.object().kind(), 1, Integer::sum));
        return counts;
    }
}
